import type { Logger } from "pino";
import type { KeyId } from "../domain/types.js";
import type { KeyStore } from "../store/key-store.js";

/**
 * Coalesces last_used_at per key in memory and writes them in one bulk write
 * per interval, so the hot path never waits on a database write.
 */
export class UsageRecorder {
  private pending = new Map<KeyId, Date>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: KeyStore,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  record(id: KeyId, at: Date): void {
    const seen = this.pending.get(id);
    if (seen === undefined || seen < at) this.pending.set(id, at);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** Writes what is pending; on failure the batch is merged back for the next try. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      try {
        await this.store.recordUsage(batch);
      } catch (err) {
        for (const [id, at] of batch) this.record(id, at);
        this.log.warn({ err, keys: batch.size }, "last_used_at flush failed; will retry");
      }
    });
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
