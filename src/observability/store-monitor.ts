import type { Logger } from "pino";
import type { MongoKeyStore } from "../store/mongo/mongo-key-store.js";
import type { HealthState } from "./health-state.js";

/**
 * Keeps health in step with the database: SERVING once indexes exist and a
 * ping succeeds, NOT_SERVING while pings fail. Starting with the database
 * down is allowed: indexes are created as soon as it answers.
 */
export function startStoreMonitor(
  store: MongoKeyStore,
  health: HealthState,
  log: Logger,
  options: {
    intervalMs?: number;
    timeoutMs?: number;
    onReachable?: (up: boolean) => void;
    /**
     * Run once, the first time the database answers (cache warming); SERVING
     * waits for it at most `maxMs`, after which it goes on in the background.
     */
    beforeServing?: { run: () => Promise<unknown>; maxMs: number };
  } = {},
): { stop(): void } {
  const intervalMs = options.intervalMs ?? 1000;
  let indexesReady = false;
  let reachable: boolean | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let firstServing = options.beforeServing;

  const check = async () => {
    try {
      if (!indexesReady) {
        await store.ensureIndexes();
        indexesReady = true;
        log.info("database indexes ensured");
      }
      await pingWithin(store, options.timeoutMs ?? 2000);
      if (reachable !== true) log.info("database reachable: serving");
      reachable = true;
      options.onReachable?.(true);
      if (firstServing) {
        const { run, maxMs } = firstServing;
        firstServing = undefined;
        await waitAtMost(run(), maxMs);
        if (stopped) return;
      }
      health.setAll("SERVING");
    } catch (err) {
      if (reachable !== false) log.error({ err }, "database unreachable: not serving");
      reachable = false;
      options.onReachable?.(false);
      health.setAll("NOT_SERVING");
    }
    if (!stopped) timer = setTimeout(() => void check(), intervalMs);
  };
  void check();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** A hung server answers nothing: past the deadline it counts as down. */
async function pingWithin(store: MongoKeyStore, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    store.ping(),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("ping past its deadline")), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function waitAtMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise((r) => (timer = setTimeout(r, ms))),
  ]).finally(() => clearTimeout(timer));
}
