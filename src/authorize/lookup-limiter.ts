import { StoreUnavailableError } from "../domain/errors.js";

/** `known`: a digest a real key was cached under (refresh ahead, expired or invalidated entry); `unknown`: anything else. */
export type LookupLane = "known" | "unknown";
export type LookupRejection = "queue_full" | "waited_too_long";

export interface LookupLimiterOptions {
  /** Store lookups in flight at once (STORE_MAX_CONCURRENT_LOOKUPS). */
  maxInFlight: number;
  /** Waiters per lane; past it a lookup is refused at once. */
  maxQueued: number;
  /** A waiter not started within this long is refused: the store deadline (MONGODB_TIMEOUT_MS). */
  maxWaitMs: number;
  /** Slots the unknown lane may never take; default an eighth (none when maxInFlight is 1). */
  reservedForKnown?: number;
  now?: () => number;
  onReject?: (reason: LookupRejection, lane: LookupLane) => void;
}

interface Waiter {
  since: number;
  start(): void;
  refuse(err: Error): void;
}

/** A queue that does not shift the whole array on every dequeue. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head >= 64 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * Bounds the store lookups of cache misses. Anyone can mint well-formed
 * digests for free, so without a bound a flood of them fills the database's
 * connection pool and the lookups that matter — a legitimate key not yet
 * cached, the background refresh of a key in use — time out behind it.
 *
 * Known keys go first: their queue is drained before the unknown one, and a
 * few slots are theirs alone, so their re-reads start at once however many
 * unknown digests wait. Waiting is bounded twice: a full queue refuses at once,
 * and a waiter not started within the store deadline is refused, both as
 * UNAVAILABLE (retry), instead of a queue that grows and answers too late to
 * matter. Callers of cached keys never come here.
 */
export class LookupLimiter {
  private active = 0;
  private readonly queues: Record<LookupLane, Fifo<Waiter>> = {
    known: new Fifo(),
    unknown: new Fifo(),
  };
  private readonly reserved: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LookupLimiterOptions) {
    if (!(options.maxInFlight >= 1))
      throw new RangeError(`maxInFlight must be at least 1, got ${options.maxInFlight}`);
    this.reserved = Math.min(
      options.reservedForKnown ??
        (options.maxInFlight >= 2 ? Math.max(1, Math.floor(options.maxInFlight / 8)) : 0),
      options.maxInFlight - 1,
    );
    this.now = options.now ?? (() => performance.now());
  }

  get inFlight(): number {
    return this.active;
  }

  queued(lane: LookupLane): number {
    return this.queues[lane].length;
  }

  /** Runs `task` when a slot is free for `lane`; rejects with StoreUnavailableError when it cannot wait. */
  run<T>(lane: LookupLane, task: () => Promise<T>): Promise<T> {
    const queue = this.queues[lane];
    if (queue.length === 0 && this.hasSlot(lane)) return this.start(task);
    if (queue.length >= this.options.maxQueued) {
      this.options.onReject?.("queue_full", lane);
      return Promise.reject(
        new StoreUnavailableError(
          `too many key lookups are waiting for the database (${this.active} in flight, ${queue.length} queued); retry later`,
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      queue.push({
        since: this.now(),
        start: () => this.start(task).then(resolve, reject),
        refuse: reject,
      });
      this.arm();
    });
  }

  private hasSlot(lane: LookupLane): boolean {
    return lane === "known"
      ? this.active < this.options.maxInFlight
      : this.active < this.options.maxInFlight - this.reserved && this.queues.known.length === 0;
  }

  private start<T>(task: () => Promise<T>): Promise<T> {
    this.active++;
    let running: Promise<T>;
    try {
      running = task();
    } catch (err) {
      running = Promise.reject(err);
    }
    const release = () => {
      this.active--;
      this.drain();
    };
    running.then(release, release);
    return running;
  }

  private drain(): void {
    this.expire();
    for (;;) {
      const lane: LookupLane | null =
        this.queues.known.length > 0 && this.hasSlot("known")
          ? "known"
          : this.queues.unknown.length > 0 && this.hasSlot("unknown")
            ? "unknown"
            : null;
      if (lane === null) return;
      this.queues[lane].shift()!.start();
    }
  }

  /** Refuses every waiter past its deadline; FIFO, so they are at the heads. */
  private expire(): void {
    const limit = this.now() - this.options.maxWaitMs;
    for (const lane of ["known", "unknown"] as const) {
      const queue = this.queues[lane];
      while (queue.length > 0 && queue.peek()!.since <= limit) {
        const waiter = queue.shift()!;
        this.options.onReject?.("waited_too_long", lane);
        waiter.refuse(
          new StoreUnavailableError(
            `a key lookup waited ${Math.round(this.now() - waiter.since)} ms for a free database slot; retry later`,
          ),
        );
      }
    }
  }

  /** One timer for all waiters, set for the oldest: refusing late waiters must not depend on a slot freeing. */
  private arm(): void {
    if (this.timer !== undefined) return;
    const heads = [this.queues.known.peek(), this.queues.unknown.peek()].filter(
      (w) => w !== undefined,
    );
    if (heads.length === 0) return;
    const oldest = Math.min(...heads.map((w) => w.since));
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.expire();
        this.arm();
      },
      Math.max(1, Math.ceil(oldest + this.options.maxWaitMs - this.now())),
    );
    this.timer.unref();
  }
}
