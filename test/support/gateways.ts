import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./mongo-provider.js";

/**
 * The one way tests and the bench start nginx or Caddy with the configurations
 * of test/gateways/ (the README shows the same), on a free loopback port.
 */
const CONFIGS = new URL("../gateways/", import.meta.url).pathname;

/** nginx and Caddy come from Debian's packages (.ci/run installs them); never a silent skip. */
export function binary(name: "nginx" | "caddy"): string {
  const found = spawnSync("sh", ["-c", `command -v ${name} || ls /usr/sbin/${name} 2>/dev/null`], {
    encoding: "utf8",
  })
    .stdout.trim()
    .split("\n")[0];
  if (!found)
    throw new Error(
      `${name} not found: install it with \`apt-get install -y ${name}\` (bash .ci/run does)`,
    );
  return found;
}

function fill(template: string, values: Record<string, string | number>): string {
  return Object.entries(values).reduce(
    (text, [k, v]) => text.replaceAll(`{{${k}}}`, String(v)),
    readFileSync(join(CONFIGS, template), "utf8"),
  );
}

export interface Gateway {
  name: "nginx" | "caddy";
  url: string;
  child: ChildProcess;
  output: () => string;
}

export async function startGateway(
  name: "nginx" | "caddy",
  dir: string,
  keywardPort: number,
  upstreamPort: number,
): Promise<Gateway> {
  const port = await freePort();
  let child: ChildProcess;
  if (name === "nginx") {
    for (const d of ["body", "proxy", "fastcgi", "uwsgi", "scgi"])
      mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(
      join(dir, "nginx.conf"),
      fill("nginx.conf", { DIR: dir, PORT: port, KEYWARD: keywardPort, UPSTREAM: upstreamPort }),
    );
    child = spawn(binary("nginx"), ["-p", dir, "-c", join(dir, "nginx.conf")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
  } else {
    writeFileSync(
      join(dir, "Caddyfile"),
      fill("Caddyfile", { PORT: port, KEYWARD: keywardPort, UPSTREAM: upstreamPort }),
    );
    child = spawn(
      binary("caddy"),
      ["run", "--config", join(dir, "Caddyfile"), "--adapter", "caddyfile"],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          XDG_CONFIG_HOME: join(dir, "config"),
          XDG_DATA_HOME: join(dir, "data"),
        },
      },
    );
  }
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output = (output + d).slice(-8000)));
  child.stderr!.on("data", (d: Buffer) => (output = (output + d).slice(-8000)));
  const url = `http://127.0.0.1:${port}`;
  // Its own wait, not the vitest harness's: the bench starts gateways too.
  for (const deadline = Date.now() + 15_000; ; ) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited with ${child.exitCode}:\n${output}`);
    if (
      await fetch(`${url}/`).then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error(`${name} did not listen within 15 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name, url, child, output: () => output };
}
