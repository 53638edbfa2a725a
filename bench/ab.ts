/**
 * A/B of cached Authorize on PORT: two compiled keyward servers side by side
 * on this machine, driven in alternation by ghz, compared by throughput (c=50)
 * and by the server's own CPU time per call at a fixed rate (from
 * /proc/<pid>/stat, so the load generator's CPU does not count).
 *
 *   npm run bench:ab -- --base <git ref>            this tree (B) against an older commit (A)
 *   npm run bench:ab -- --env-a USAGE_RECORDING=off the same build, A with other settings
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KeyAdminService } from "../gen/keyward/v1/key_admin_pb.js";
import { type KeywardProcess, spawnKeyward } from "../test/support/keyward-process.js";
import { ROOT } from "../test/support/paths.js";
import { AUTHORIZE, ghz, type LoadResult, writeProtoset } from "./load.js";

const USAGE = `Usage: npm run bench:ab -- [options]

Options:
  --base REF         build A from this git commit (in a temporary worktree); default: A is this tree too
  --env-a K=V        environment for A only (repeatable), e.g. USAGE_RECORDING=off
  --env-b K=V        environment for B only (repeatable)
  --rounds N         alternations (default 5)
  --duration S       seconds per run (default 5)
  --rate N           fixed rate for the CPU-per-call runs (default 2000)
  -h, --help
`;
const { values } = parseArgs({
  options: {
    base: { type: "string" },
    "env-a": { type: "string", multiple: true, default: [] },
    "env-b": { type: "string", multiple: true, default: [] },
    rounds: { type: "string", default: "5" },
    duration: { type: "string", default: "5" },
    rate: { type: "string", default: "2000" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const ROUNDS = Number(values.rounds);
const DURATION = Number(values.duration);
const RATE = Number(values.rate);
const log = (msg: string) => process.stderr.write(`[ab] ${msg}\n`);
const envOf = (pairs: string[]) =>
  Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]));

function build(root: string): void {
  const r = spawnSync(
    process.execPath,
    [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    { cwd: root, stdio: "inherit" },
  );
  if (r.status !== 0) throw new Error(`build failed in ${root}`);
}

/** User + system CPU of a process so far, in microseconds (Linux clock ticks are 1/100 s). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function start(
  root: string,
  env: Record<string, string>,
): Promise<{ proc: KeywardProcess; data: unknown[] }> {
  const proc = await spawnKeyward({ compiled: true, root, env: { KEYWARD_DEV: "1", ...env } });
  const rootKey = /kw_test_\w+/.exec(proc.output())?.[0];
  if (!rootKey) throw new Error(`no dev root key in the output of ${root}`);
  const admin = createClient(
    KeyAdminService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${proc.port}` }),
  );
  const auth = { headers: { authorization: `Bearer ${rootKey}` } };
  const keys = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      admin.createKey(
        { name: `ab ${i}`, workspace: "bench", scopes: ["campaigns:read", "leads:all"] },
        auth,
      ),
    ),
  );
  const data = keys.flatMap((k) => [
    { api_key: k.key, required_scopes: ["campaigns:read"], workspace: "bench" },
    { api_key: k.key, required_scopes: ["campaigns:write"], workspace: "bench" },
  ]);
  return { proc, data };
}

const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

let baseDir: string | null = null;
const servers: KeywardProcess[] = [];
try {
  log("building B (this tree)");
  build(ROOT);
  let rootA = ROOT;
  if (values.base) {
    baseDir = mkdtempSync(join(tmpdir(), "keyward-ab-"));
    execFileSync("git", ["worktree", "add", "--detach", baseDir, values.base], {
      cwd: ROOT,
      stdio: "ignore",
    });
    symlinkSync(join(ROOT, "node_modules"), join(baseDir, "node_modules"));
    log(`building A (${values.base})`);
    build(baseDir);
    rootA = baseDir;
  }
  const protoset = join(mkdtempSync(join(tmpdir(), "keyward-ab-proto-")), "keyward.protoset");
  writeProtoset(protoset);
  const a = await start(rootA, envOf(values["env-a"]!));
  const b = await start(ROOT, envOf(values["env-b"]!));
  servers.push(a.proc, b.proc);
  const timed = (s: number) => ["-c", "50", "-z", `${s}s`, "--connections", "2"];
  const fixed = ["--rps", String(RATE), "-c", "10", "-z", `${DURATION}s`, "--connections", "1"];
  for (const s of [a, b]) await ghz(protoset, s.proc.port, AUTHORIZE, { inline: s.data }, timed(3));
  const results = {
    a: { rps: [] as number[], cpu: [] as number[] },
    b: { rps: [] as number[], cpu: [] as number[] },
  };
  for (let r = 1; r <= ROUNDS; r++) {
    for (const [name, s] of [
      ["a", a],
      ["b", b],
    ] as const) {
      const t: LoadResult = await ghz(
        protoset,
        s.proc.port,
        AUTHORIZE,
        { inline: s.data },
        timed(DURATION),
      );
      const before = cpuMicros(s.proc.child.pid!);
      const f = await ghz(protoset, s.proc.port, AUTHORIZE, { inline: s.data }, fixed);
      const perCall = (cpuMicros(s.proc.child.pid!) - before) / Math.max(1, f.ok + f.errors);
      results[name].rps.push(t.rps);
      results[name].cpu.push(perCall);
      log(
        `round ${r} ${name.toUpperCase()}: ${t.rps.toFixed(0)} req/s at c=50; ${perCall.toFixed(1)} µs server CPU per call at ${RATE} req/s`,
      );
    }
  }
  const [ra, rb, ca, cb] = [
    med(results.a.rps),
    med(results.b.rps),
    med(results.a.cpu),
    med(results.b.cpu),
  ];
  process.stdout.write(
    [
      `A: ${values.base ?? "this tree"} ${values["env-a"]!.join(" ")}`.trim(),
      `B: this tree ${values["env-b"]!.join(" ")}`.trim(),
      `cached Authorize on PORT, c=50, median of ${ROUNDS}: A ${ra.toFixed(0)} req/s, B ${rb.toFixed(0)} req/s, B/A ${((rb / ra) * 100).toFixed(1)}%`,
      `server CPU per call at ${RATE} req/s, median of ${ROUNDS}: A ${ca.toFixed(1)} µs, B ${cb.toFixed(1)} µs, B/A ${((cb / ca) * 100).toFixed(1)}%`,
      "",
    ].join("\n"),
  );
} finally {
  for (const s of servers) await s.stop();
  if (baseDir && existsSync(baseDir)) {
    execFileSync("git", ["worktree", "remove", "--force", baseDir], { cwd: ROOT, stdio: "ignore" });
    rmSync(baseDir, { recursive: true, force: true });
  }
}
