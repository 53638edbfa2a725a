import type { ScopeCatalog } from "../domain/scopes.js";
import type { KeyRecord, RawKey } from "../domain/types.js";
import type { KeyStore } from "../store/key-store.js";
import { createKey } from "./create-key.js";
import { BOOTSTRAP_PRINCIPAL } from "./principal.js";

export interface BootstrapOptions {
  workspace: string;
  name: string;
  /** Default `keyward:all`: the first admin key has to be able to make the others. */
  scopes: string[];
  environment: "live" | "test";
}

/** Writes an admin key straight to the store, audited as actor "bootstrap". */
export async function bootstrapAdmin(
  store: KeyStore,
  deps: { catalog: ScopeCatalog; pepper: string; prefix: string; now?: () => Date },
  options: BootstrapOptions,
): Promise<{ key: RawKey; record: KeyRecord }> {
  const ctx = { store, ...deps, now: deps.now ?? (() => new Date()), onKeyChanged: () => {} };
  return createKey(ctx, BOOTSTRAP_PRINCIPAL, {
    name: options.name,
    workspace: options.workspace,
    scopes: options.scopes,
    allowedDomains: [],
    expiresAt: null,
    environment: options.environment,
    metadata: {},
  });
}
