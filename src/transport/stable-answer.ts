const STABLE: unique symbol = Symbol("keyward.stableAnswer");

/**
 * A response message that its handler hands out again and again, unchanged:
 * the gRPC port encodes it once. Frozen, so the promise is kept by the runtime,
 * not by convention.
 */
export type StableAnswer<T extends object> = Readonly<T> & { readonly [STABLE]: true };

export function stableAnswer<T extends object>(message: T): StableAnswer<T> {
  // Not enumerable: protobuf-es serialises by schema, and nothing else sees it.
  Object.defineProperty(message, STABLE, { value: true });
  return Object.freeze(message) as StableAnswer<T>;
}

export function isStableAnswer<T extends object>(message: T): message is StableAnswer<T> {
  return (message as { [STABLE]?: true })[STABLE] === true;
}
