import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** The one way tests and the bench find a tool built by scripts/install-go-tools.sh (or named by an env variable). */
export function goTool(
  name: "grpcurl" | "ghz" | "ferretdb" | "grpc-interop-client",
  envVariable?: string,
): string {
  const fromEnv = envVariable ? process.env[envVariable] : undefined;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const gopath = spawnSync("go", ["env", "GOPATH"], { encoding: "utf8" }).stdout?.trim();
  const candidate = gopath ? join(gopath, "bin", name) : "";
  if (candidate && existsSync(candidate)) return candidate;
  const onPath = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
  if (onPath) return onPath;
  throw new Error(
    `${name} not found: run \`bash scripts/install-go-tools.sh\` (needs Go)${envVariable ? ` or set ${envVariable}` : ""}`,
  );
}
