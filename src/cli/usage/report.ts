import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ApiKey } from "../../../gen/keyward/v1/key_admin_pb.js";
import type { GetKeyUsageResponse } from "../../../gen/keyward/v1/usage_pb.js";
import type { UsageRange } from "../../domain/usage-report.js";
import { date, table } from "../admin-cli.js";
import { type ChartOptions, usageChart } from "./chart.js";

/** `keyward keys usage` as text: chart, totals, scopes, domains, and what the key could be trimmed to. */

/** A count map as "A 3, B 1", largest first. */
function counts(map: Record<string, bigint>): string {
  const entries = Object.entries(map).sort(([a, x], [b, y]) => Number(y - x) || a.localeCompare(b));
  return entries.map(([k, n]) => `${k} ${n}`).join(", ") || "—";
}

function totals(res: GetKeyUsageResponse): string {
  const denied = res.denied === 0n ? "0" : `${res.denied} (${counts(res.deniedByReason)})`;
  return [
    "Totals",
    `  allowed    ${res.allowed}`,
    `  denied     ${denied}`,
    `  by source  ${counts(res.bySource)}`,
  ].join("\n");
}

function scopesTable(res: GetKeyUsageResponse): string {
  if (res.scopes.length === 0) return "Scopes\n  no scope was required in this range\n";
  const rows = res.scopes.map((s) => [
    s.scope,
    String(s.allowed),
    String(s.denied),
    date(s.lastUsedAt),
    s.grantedBy || "(missing)",
  ]);
  return `Scopes\n${table(["SCOPE", "ALLOWED", "DENIED", "LAST USED", "GRANTED BY"], rows, 64)}`;
}

function domainsTable(res: GetKeyUsageResponse): string {
  if (res.domains.length === 0) return "Domains\n  no domain was asked for in this range\n";
  const rows = res.domains.map((d) => [d.domain, String(d.calls), date(d.lastSeenAt)]);
  return `Domains\n${table(["DOMAIN", "CALLS", "LAST SEEN"], rows, 64)}`;
}

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");

/** The suggestion, with the exact command that applies it; none when there is nothing to trim. */
export function suggestion(key: Pick<ApiKey, "id" | "scopes">, res: GetKeyUsageResponse): string {
  const unused = `Unused scopes: ${res.unusedScopes.join(", ") || "none"}`;
  if (res.suggestedScopes.length === 0)
    return `${unused}\nSuggestion: none (no allowed call in this range to learn from)\n`;
  if (sameSet(res.suggestedScopes, key.scopes))
    return `${unused}\nSuggestion: none (its scopes ${key.scopes.join(", ")} are what its calls needed)\n`;
  const flags = res.suggestedScopes.map((s) => `--scope ${s}`).join(" ");
  return `${unused}
Suggestion: it holds ${key.scopes.join(", ")}; its allowed calls in this range needed only ${res.suggestedScopes.join(", ")}.
To grant just those:
  keyward keys update ${key.id} ${flags}
`;
}

function header(key: ApiKey, range: UsageRange): string {
  const unit = range.granularity === "hour" ? "hourly" : "daily";
  return `${key.id} (${key.name}, workspace ${key.workspace}): ${date(timestampFromDate(range.start))} → ${date(timestampFromDate(range.end))}, ${unit}`;
}

export function usageReport(
  key: ApiKey,
  res: GetKeyUsageResponse,
  range: UsageRange,
  chart: Omit<ChartOptions, "granularity">,
): string {
  const points = res.buckets.map((b) => ({
    start: b.startTime ? timestampDate(b.startTime) : range.start,
    allowed: Number(b.allowed),
    denied: Number(b.denied),
  }));
  return [
    `${header(key, range)}\n`,
    usageChart(points, { ...chart, granularity: range.granularity }),
    `${totals(res)}\n`,
    scopesTable(res),
    domainsTable(res),
    suggestion(key, res),
  ].join("\n");
}
