/** bench/results.md and the console summary, from one run's measurements. */
import { type LoadResult, median } from "./load.js";

export interface BenchSettings {
  duration: number;
  concurrency: number;
  rounds: number;
  rates: number[];
  manyKeys: number;
  /** Which database ran: "ferretdb …" or "MONGODB_URI …". */
  database: string;
  ferretScans: boolean;
  nodeArgs: string[];
}

export interface BenchResults {
  runs: Record<Target, LoadResult[]>;
  fixed: Array<{ rps: number; floor: LoadResult; authorize: LoadResult }>;
  forward: { direct: LoadResult; nginx: LoadResult; direct1k: LoadResult; nginx1k: LoadResult };
  cold: LoadResult;
  /** ms from each revoke to the other replica's first refusal. */
  lags: number[];
  propagationError: string;
}

export type Target = "floor" | "check" | "grpc" | "connect";

export function report(
  s: BenchSettings,
  r: BenchResults,
): { rows: string[]; summary: string[]; markdown: string } {
  const {
    duration: DURATION,
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    rates: RATES,
    manyKeys: MANY_KEYS,
  } = s;
  const { runs, fixed, forward, cold, propagationError } = r;
  const med = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)])) as Record<
    Target,
    LoadResult
  >;
  const authorize1k = fixed.find((x) => x.rps === 1000)?.authorize;
  const lags = [...r.lags].sort((x, y) => x - y);
  const lagP99 = lags[Math.max(0, Math.ceil(lags.length * 0.99) - 1)] ?? NaN; // nearest rank
  const lagMax = lags[lags.length - 1] ?? NaN;

  const f = (n: number, d = 2) => (Number.isNaN(n) ? "–" : n.toFixed(d));
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const row = (name: string, x: LoadResult, offered?: number) =>
    `| ${name} | ${f(x.rps, 0)} | ${offered ? pct(x.ok / (offered * DURATION)) : ""} | ${f(x.p50)} | ${f(x.p99)} | ${f(x.p999)} | ${x.errors} |`;
  const medianOf = `c=${CONCURRENCY}, median of ${ROUNDS}`;
  const rows = [
    `| scenario | req/s | served | p50 ms | p99 ms | p99.9 ms | errors |`,
    `|---|---:|---:|---:|---:|---:|---:|`,
    row(`floor: bare node:http2 gRPC no-op (${medianOf})`, med.floor),
    row(`Health/Check on PORT, grpc-js (${medianOf})`, med.check),
    row(`Authorize, cached, 50% allow / 50% deny, on PORT, grpc-js (${medianOf})`, med.grpc),
    row(`Authorize, cached, on HTTP_PORT, connect-node, gRPC over h2c (${medianOf})`, med.connect),
    ...fixed.flatMap((x) => [
      row(`floor at fixed ${x.rps.toLocaleString("en")} req/s (c=10)`, x.floor, x.rps),
      row(
        `Authorize on PORT at fixed ${x.rps.toLocaleString("en")} req/s (c=10)`,
        x.authorize,
        x.rps,
      ),
    ]),
    row(
      `forward auth: GET /v1/check on HTTP_PORT, HTTP/1.1 (autocannon, c=${CONCURRENCY})`,
      forward.direct,
    ),
    row(
      `forward auth through nginx auth_request → upstream (autocannon, c=${CONCURRENCY})`,
      forward.nginx,
    ),
    row("forward auth: /v1/check at fixed 1,000 req/s (c=10)", forward.direct1k),
    row("forward auth through nginx at fixed 1,000 req/s (c=10)", forward.nginx1k),
    row(
      `Authorize, ${MANY_KEYS.toLocaleString("en")} stored keys, uniform, uncached (c=${CONCURRENCY})`,
      cold,
    ),
  ];
  const at = (rps: number) => fixed.find((x) => x.rps === rps);
  const two = at(2000);
  const five = at(5000);
  const summary = [
    `Forward auth: /v1/check ${f(forward.direct.rps, 0)} req/s directly, ${f(forward.nginx.rps, 0)} req/s through nginx (Authorize on PORT: ${f(med.grpc.rps, 0)}); at 1,000 req/s p99 ${f(forward.direct1k.p99)} ms directly, ${f(forward.nginx1k.p99)} ms through nginx${authorize1k ? ` (Authorize on PORT: ${f(authorize1k.p99)} ms)` : ""}`,
    `Cached Authorize on PORT / floor: **${pct(med.grpc.rps / med.floor.rps)}** (target ≥ 50%); / keyward's own Health/Check: **${pct(med.grpc.rps / med.check.rps)}** (target ≥ 75%); on HTTP_PORT (connect-node) / PORT: ${pct(med.connect.rps / med.grpc.rps)}`,
    `Rounds (req/s): floor ${runs.floor.map((r) => f(r.rps, 0)).join(", ")} · Check ${runs.check.map((r) => f(r.rps, 0)).join(", ")} · Authorize PORT ${runs.grpc.map((r) => f(r.rps, 0)).join(", ")} · Authorize HTTP_PORT ${runs.connect.map((r) => f(r.rps, 0)).join(", ")}; Authorize / Check, round by round: ${runs.grpc.map((g, i) => pct(g.rps / runs.check[i]!.rps)).join(", ")}`,
    ...(two
      ? [
          `At 2,000 req/s: Authorize p99 **${f(two.authorize.p99)} ms** (target < 3 ms) = **${f(two.authorize.p99 / two.floor.p99, 1)}×** the floor's ${f(two.floor.p99)} ms (target < 2.5×)`,
        ]
      : []),
    ...(five
      ? [
          `At 5,000 req/s: Authorize served **${pct(five.authorize.ok / (5000 * DURATION))}** of the offered calls (target ≥ 97%), p50/p99/p99.9 ${f(five.authorize.p50)}/${f(five.authorize.p99)}/${f(five.authorize.p999)} ms (floor ${f(five.floor.p50)}/${f(five.floor.p99)}/${f(five.floor.p999)} ms)`,
        ]
      : []),
    propagationError
      ? `Revocation propagation across two replicas: FAILED (${propagationError}); measured p99 ${f(lagP99, 0)} ms, max ${f(lagMax, 0)} ms over ${lags.length} revokes`
      : `Revocation propagation across two replicas, 100 revokes (from the revoke call to the other replica's first refusal): p99 **${f(lagP99, 0)} ms**, max **${f(lagMax, 0)} ms** (target max < 1000 ms)`,
  ];
  const markdown = [
    "# keyward benchmark results",
    "",
    `Command: \`npm run bench -- --duration ${DURATION} --concurrency ${CONCURRENCY} --rounds ${ROUNDS} --rates ${RATES.join(",")}\`, ${new Date().toISOString()}, database: ${s.database.replace(/ \(.*/, "")}, keyward compiled (node ${s.nodeArgs.join(" ")} dist/src/main.js, as the Dockerfile runs it), ghz (throughput: 2 connections; fixed rates: 1 connection, c=10) and the servers on one 2-core machine; the second replica runs only for the propagation row. "served" = OK answers / calls offered at that rate. autocannon (forward auth rows) reports latency in whole milliseconds.`,
    "",
    ...rows,
    "",
    ...summary.map((x) => `- ${x}`),
    ...(s.ferretScans
      ? [
          "",
          `The uncached row measures the database, not keyward: FerretDB 1.24 on SQLite plans \`find({key_digest})\` as a full SCAN of the collection, so every cache miss costs a scan. Against a real MongoDB the unique index makes it one index probe: \`MONGODB_URI=mongodb://... npm run bench\`.`,
        ]
      : []),
    "",
  ].join("\n");
  return { rows, summary, markdown };
}
