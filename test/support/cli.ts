import { spawn } from "node:child_process";
import { ROOT } from "./paths.js";

export interface CliRun {
  /** The exit code; null when the run was killed for taking longer than its timeout. */
  code: number | null;
  stdout: string;
  /** Without blank lines, so a one-line error is exactly one line. */
  stderr: string;
}

export interface CliOptions {
  /** Added to PATH alone: the developer's own KEYWARD_* variables never leak into a test. */
  env?: Record<string, string>;
  /** Written to the CLI's stdin, which is then closed (as a pipe from `echo`). */
  stdin?: string;
  timeoutMs?: number;
}

/**
 * The one way tests run the admin CLI: from source, as a user runs it. Async,
 * since the server it talks to usually answers from this same process.
 */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...options.env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  // A CLI that exits before reading its stdin closes the pipe: that is not the test's failure.
  child.stdin.on("error", () => {});
  child.stdin.end(options.stdin ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout,
        stderr: stderr
          .split("\n")
          .filter((l) => l !== "")
          .join("\n"),
      });
    });
  });
}
