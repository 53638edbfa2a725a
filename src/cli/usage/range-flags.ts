import {
  MAX_BUCKETS,
  MAX_RANGE_DAYS,
  resolveUsageRange,
  type UsageRange,
} from "../../domain/usage-report.js";
import { UsageError } from "../admin-cli.js";

/** --since, --until and --by of `keyward keys usage`, checked before connecting with the server's own range rules. */

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** "7d", "48h", "90m", "2w" back from now, or a date: "2026-11-01" (UTC midnight) or an ISO timestamp. */
export function parseWhen(value: string, flag: string, now: Date): Date {
  const ago = /^(\d+)(m|h|d|w)$/.exec(value.trim());
  if (ago) return new Date(now.getTime() - Number(ago[1]) * UNIT_MS[ago[2] as "d"]);
  const at = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())
    ? new Date(value.trim())
    : null;
  if (at === null || Number.isNaN(at.getTime()))
    throw new UsageError(
      `${flag} must be a time back from now (7d, 48h, 90m, 2w) or a date (2026-11-01, 2026-11-01T12:00:00Z), got ${JSON.stringify(value)}`,
    );
  return at;
}

export function granularityFlag(value: string | undefined): "hour" | "day" | "unspecified" {
  if (value === undefined) return "unspecified";
  if (value === "hour" || value === "day") return value;
  throw new UsageError(`--by must be hour or day, got ${JSON.stringify(value)}`);
}

/** The range asked for, or a UsageError naming the flag: the server would refuse it with the proto's field names. */
export function usageRange(
  values: { since?: string; until?: string; by?: string },
  now: Date,
): { start: Date | null; end: Date | null; range: UsageRange } {
  const start = values.since === undefined ? null : parseWhen(values.since, "--since", now);
  const end = values.until === undefined ? null : parseWhen(values.until, "--until", now);
  const resolved = resolveUsageRange(start, end, granularityFlag(values.by), now);
  if (resolved.ok) return { start, end, range: resolved.range };
  const { field, problem } = resolved.violation;
  if (field === "granularity")
    throw new UsageError(
      `--by hour covers at most ${MAX_BUCKETS} hours: use --by day or a shorter --since`,
    );
  const days = /got (\d+) days/.exec(problem);
  if (days)
    throw new UsageError(
      `--since to --until is at most ${MAX_RANGE_DAYS} days, got ${days[1]} days: use a later --since`,
    );
  const times = /\((.*)\)/.exec(problem)?.[1] ?? problem;
  throw new UsageError(`--since must be before --until (${times})`);
}
