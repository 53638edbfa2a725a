import type { KeyDigest, KeyRecord } from "../../src/domain/types.js";
import { MemoryKeyStore } from "../../src/store/memory-key-store.js";

/**
 * The memory store, whose findKeyByDigest answers only when the test lets it:
 * a database of controllable latency, to see what waits, in what order, and how many at once.
 */
export class GatedKeyStore extends MemoryKeyStore {
  /** Every findKeyByDigest in the order it reached the store. */
  readonly started: KeyDigest[] = [];
  private readonly gates: { digest: KeyDigest; open: () => void }[] = [];
  private running = 0;
  private peak = 0;

  override async findKeyByDigest(digest: KeyDigest): Promise<KeyRecord | null> {
    this.started.push(digest);
    this.peak = Math.max(this.peak, ++this.running);
    try {
      await new Promise<void>((open) => this.gates.push({ digest, open }));
      return await super.findKeyByDigest(digest);
    } finally {
      this.running--;
    }
  }

  get inFlight(): number {
    return this.running;
  }

  get maxInFlight(): number {
    return this.peak;
  }

  /** Answers the oldest waiting call (or the one for `digest`); false when none waits. */
  release(digest?: KeyDigest): boolean {
    const i = digest === undefined ? 0 : this.gates.findIndex((g) => g.digest === digest);
    if (i < 0 || i >= this.gates.length) return false;
    this.gates.splice(i, 1)[0]!.open();
    return true;
  }
}
