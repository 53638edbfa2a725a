import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { KeyStore } from "../store/key-store.js";

/**
 * The usage sweep (fold closed hours, roll up, remove past retention) every
 * USAGE_COMPACT_MS on every replica: the store makes it safe to run at once.
 * One run at a time; stop waits for the one under way.
 */
export function startUsageCompaction(
  config: Config,
  store: KeyStore,
  now: () => Date,
  log: Logger,
) {
  const retention = { hourlyDays: config.usage.hourlyDays, dailyDays: config.usage.dailyDays };
  let running: Promise<void> | null = null;
  const run = () => {
    running ??= store
      .compactUsage(now(), retention)
      .then((r) => void (r.folded + r.removed > 0 && log.debug(r, "usage compacted")))
      .catch((err: unknown) => log.warn({ err }, "usage compaction failed; will retry"))
      .finally(() => (running = null));
  };
  const timer = setInterval(run, config.usage.compactMs).unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
