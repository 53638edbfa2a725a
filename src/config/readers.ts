/** Reading one environment variable: typed readers whose errors name the variable and the problem. */
import { existsSync, readFileSync } from "node:fs";
import { catalogFromJson, type ScopeCatalog } from "../domain/scopes.js";

/** Names the variable and what was expected, in one line for the operator. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`invalid configuration: ${variable} ${problem}`);
    this.name = "ConfigError";
  }
}

export type Env = Record<string, string | undefined>;

export function integer(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(
      name,
      `must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return Number(raw);
}

export function readableFile(env: Env, name: string): string | null {
  const path = env[name];
  if (path === undefined || path === "") return null;
  if (!existsSync(path)) throw new ConfigError(name, `names ${path}, which does not exist`);
  return path;
}

export function loadCatalog(path: string, variable = "SCOPES_FILE"): ScopeCatalog {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(variable, `cannot be read (${path}): ${(err as Error).message}`);
  }
  try {
    return catalogFromJson(JSON.parse(text));
  } catch (err) {
    throw new ConfigError(
      variable,
      `(${path}) is not a valid scope catalog: ${(err as Error).message}`,
    );
  }
}

export function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(raw)}`);
}

export function optional(env: Env, name: string): string | null {
  const value = env[name];
  return value === undefined || value === "" ? null : value;
}
