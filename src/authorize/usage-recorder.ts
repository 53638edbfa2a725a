import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Decision } from "../domain/decision.js";
import { grantedBy } from "../domain/scope-suggestion.js";
import type { ScopeCatalog } from "../domain/scopes.js";
import type { KeyId, KeyRecord } from "../domain/types.js";
import {
  countCall,
  emptyCounts,
  hourStart,
  isRecordedReason,
  type UsageCall,
  type UsagePeriod,
  type UsageSource,
} from "../domain/usage.js";
import { type KeyStore, USAGE_HOUR_CLOSES_AFTER_MS } from "../store/key-store.js";

/** last_used_at entries per store call: 5,000 took ~3.5 s on FerretDB 1.24, well inside the 60 s background deadline. */
export const LAST_USED_CHUNK = 5000;

export interface UsageRecorderOptions {
  store: KeyStore;
  catalog: ScopeCatalog;
  /** USAGE_FLUSH_MS: a crash loses at most this long of this replica's counts. */
  intervalMs: number;
  /** Key-hours held in memory (pending and awaiting a retry); calls past it are dropped and counted. */
  maxPending: number;
  log: Logger;
  /** Decisions not counted because the cap on pending key-hours was reached, or their hour closed unwritten. */
  onDropped?: (calls: number) => void;
  /** The clock that says when an hour has closed (tests inject one); default Date.now. */
  nowMs?: () => number;
}

/** One key's counts for the hour it is in, since the last flush. */
interface Entry {
  period: UsagePeriod;
  hour: number;
  /** The key's scopes as of its latest call; granted_by is judged on them. */
  held: readonly string[];
  grantedByOf: (scope: string) => string;
}

export const DEFAULT_MAX_PENDING = 100_000;

/**
 * What every decision naming a key did, counted in memory per key and hour
 * (domain/usage.ts countCall) and written every interval as one appended
 * document per key and hour, with last_used_at from the same counts. The hot
 * path never waits on it; for a key already seen since the last flush it only
 * bumps numbers in place (a reused call object, the entry's own granted_by
 * closure), so it allocates nothing per call.
 */
export class UsageRecorder {
  private current = new Map<KeyId, Entry>();
  /** Hours a key left since the last flush. */
  private closed: UsagePeriod[] = [];
  /**
   * Batches not yet known to be written, oldest first, each retried under its
   * own flush id: a write that failed after landing (a deadline) adds nothing
   * the second time.
   */
  private unwritten: { id: string; periods: UsagePeriod[]; failed: boolean }[] = [];
  private unwrittenPeriods = 0;
  /** last_used_at of a batch whose counts were written but whose last_used_at write failed. */
  private lastUsedRetry = new Map<KeyId, Date>();
  private readonly call: { -readonly [K in keyof UsageCall]: UsageCall[K] } = {
    at: 0,
    reason: "OK",
    source: "grpc",
    requiredScopes: [],
    missingScopes: [],
    domain: null,
  };
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private dropped = 0;

  constructor(private readonly options: UsageRecorderOptions) {}

  /** Key-hours held now; at most maxPending. */
  get pending(): number {
    return this.current.size + this.closed.length + this.unwrittenPeriods;
  }

  /** Decisions dropped so far at the cap. */
  get droppedCalls(): number {
    return this.dropped;
  }

  /** Counts one decision; one that names no key (missing, malformed, unknown) is not counted anywhere. */
  record(
    decision: Decision,
    at: Date,
    requiredScopes: readonly string[],
    domain: string | null,
    source: UsageSource,
  ): void {
    const key = decision.key;
    if (key === null || !isRecordedReason(decision.reason)) return;
    const ms = at.getTime();
    const entry = this.entryFor(key, ms);
    if (entry === null) {
      this.drop(1);
      return;
    }
    entry.held = key.scopes;
    const call = this.call;
    call.at = ms;
    call.reason = decision.reason;
    call.source = source;
    call.requiredScopes = requiredScopes;
    call.missingScopes = decision.missingScopes;
    call.domain = domain;
    countCall(entry.period.counts, call, entry.grantedByOf);
  }

  private entryFor(key: KeyRecord, ms: number): Entry | null {
    const hour = hourStart(ms);
    const seen = this.current.get(key.id);
    if (seen !== undefined && seen.hour === hour) return seen;
    if (seen !== undefined) {
      // The key moved to another hour: its last hour waits for the flush as it is.
      this.closed.push(seen.period);
      this.current.delete(key.id);
    }
    if (this.pending >= this.options.maxPending) return null;
    const entry: Entry = {
      period: {
        keyId: key.id,
        workspace: key.workspace,
        start: new Date(hour),
        granularity: "hour",
        counts: emptyCounts(),
      },
      hour,
      held: key.scopes,
      grantedByOf: (scope) => grantedBy(scope, entry.held, this.options.catalog),
    };
    this.current.set(key.id, entry);
    return entry;
  }

  /**
   * An hour is folded once USAGE_HOUR_CLOSES_AFTER_MS has passed, and readers
   * then ignore later flush documents of it: counts a failed write still holds
   * by then are dropped and counted as such, not written to vanish (after a
   * long outage). A first attempt always writes: it comes one interval after its calls.
   * This also ends a batch the store keeps refusing, so it cannot block later ones.
   */
  private dropClosedHours(batch: { periods: UsagePeriod[] }): void {
    const now = (this.options.nowMs ?? Date.now)();
    const open = batch.periods.filter((p) => p.start.getTime() + USAGE_HOUR_CLOSES_AFTER_MS > now);
    if (open.length === batch.periods.length) return;
    for (const p of batch.periods)
      if (!open.includes(p)) this.drop(p.counts.allowed + p.counts.denied);
    this.unwrittenPeriods -= batch.periods.length - open.length;
    batch.periods = open;
  }

  private drop(calls: number): void {
    this.dropped += calls;
    this.options.onDropped?.(calls);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.options.intervalMs);
    this.timer.unref();
  }

  /**
   * Writes everything pending. A failed batch stays for the next try; it still
   * counts against the cap, so while the database is down new key-hours are
   * dropped (and counted) rather than held without bound.
   */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushOnce());
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const batch = [...this.closed];
    for (const entry of this.current.values()) batch.push(entry.period);
    this.closed = [];
    this.current = new Map();
    if (batch.length > 0) {
      this.unwritten.push({ id: randomUUID(), periods: batch, failed: false });
      this.unwrittenPeriods += batch.length;
    }
    const written: UsagePeriod[] = [];
    for (let next = this.unwritten[0]; next !== undefined; next = this.unwritten[0]) {
      if (next.failed) this.dropClosedHours(next);
      if (next.periods.length === 0) {
        this.unwritten.shift();
        continue;
      }
      try {
        await this.options.store.appendUsage(next.periods, next.id);
      } catch (err) {
        next.failed = true;
        this.options.log.warn(
          { err, batches: this.unwritten.length, keyHours: this.unwrittenPeriods },
          "usage flush failed; will retry",
        );
        break;
      }
      this.unwritten.shift();
      this.unwrittenPeriods -= next.periods.length;
      written.push(...next.periods);
    }
    await this.writeLastUsed(written);
  }

  private async writeLastUsed(batch: readonly UsagePeriod[]): Promise<void> {
    const lastUsed = this.lastUsedRetry;
    this.lastUsedRetry = new Map();
    for (const p of batch) {
      const at = p.counts.lastAllowedAt;
      const seen = lastUsed.get(p.keyId);
      if (at !== null && (seen === undefined || seen.getTime() < at))
        lastUsed.set(p.keyId, new Date(at));
    }
    if (lastUsed.size === 0) return;
    // In chunks, each with its own deadline: a slow database makes progress
    // chunk by chunk instead of failing (and retrying) one write of every key.
    const entries = [...lastUsed];
    for (let i = 0; i < entries.length; i += LAST_USED_CHUNK) {
      const chunk = new Map(entries.slice(i, i + LAST_USED_CHUNK));
      try {
        await this.options.store.recordUsage(chunk);
      } catch (err) {
        // The counts are written; only last_used_at is retried, so nothing is counted twice.
        for (const [id, at] of entries.slice(i)) {
          const newer = this.lastUsedRetry.get(id);
          if (newer === undefined || newer < at) this.lastUsedRetry.set(id, at);
        }
        this.options.log.warn(
          { err, keys: entries.length - i },
          "last_used_at flush failed; will retry",
        );
        return;
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
