import { readFileSync } from "node:fs";
import {
  createKeywardClient,
  type KeywardClient,
  keywardUrl,
  tlsOptions,
} from "../client/index.js";
import { UsageError } from "./usage-error.js";

export interface ConnectionFlags {
  url?: string;
  "admin-key"?: string;
  "admin-key-file"?: string;
  "ca-file"?: string;
  "cert-file"?: string;
  "key-file"?: string;
}

/** A client from the connection flags and the environment; every problem is a UsageError saying how to fix it. */
export async function connect(values: ConnectionFlags): Promise<KeywardClient> {
  const adminKey = await readAdminKey(values);
  const [ca, cert, key] = [
    pemSource(values, "ca"),
    pemSource(values, "cert"),
    pemSource(values, "key"),
  ];
  const tls = { ca: ca?.text, cert: cert?.text, key: key?.text };
  try {
    const url = keywardUrl(values.url);
    tlsOptions(url, tls, {
      ca: ca?.label ?? "--ca-file",
      cert: cert?.label ?? "--cert-file",
      key: key?.label ?? "--key-file",
    });
    return createKeywardClient({ url, adminKey, ...tls });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^keyward: /, ""));
  }
}

async function readAdminKey(values: ConnectionFlags): Promise<string> {
  const path = values["admin-key-file"];
  if (path !== undefined && values["admin-key"] !== undefined)
    throw new UsageError("use --admin-key-file or --admin-key, not both");
  if (path === undefined) {
    const key = values["admin-key"] ?? process.env.KEYWARD_ADMIN_KEY;
    if (!key)
      throw new UsageError(
        "no admin key: pass --admin-key-file PATH (or - for standard input) or set KEYWARD_ADMIN_KEY (make one with `keyward bootstrap-admin`)",
      );
    return key;
  }
  let text: string;
  if (path === "-") {
    if (process.stdin.isTTY)
      throw new UsageError(
        "--admin-key-file - reads the key from standard input, which is a terminal: pipe the key in, or give a file path",
      );
    text = await readStdin();
  } else {
    text = readText(path, "--admin-key-file");
  }
  const key = text.trim();
  const from = path === "-" ? "standard input" : path;
  if (key === "")
    throw new UsageError(
      `--admin-key-file: ${from} is empty; put the admin key in it (made by \`keyward bootstrap-admin\` or \`keyward keys create\`)`,
    );
  if (/\s/.test(key))
    throw new UsageError(
      `--admin-key-file: ${from} holds more than one word; it must hold only the admin key`,
    );
  return key;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES"
          ? "permission denied"
          : code === "EISDIR"
            ? "is a directory"
            : (err as Error).message;
    throw new UsageError(`${flag} ${path}: ${why}; give the path of a readable file`);
  }
}

/** A PEM file from its flag (--ca-file), else its variable (KEYWARD_CA_FILE); the label names the one used. */
function pemSource(
  values: ConnectionFlags,
  name: "ca" | "cert" | "key",
): { text: string; label: string } | undefined {
  const flag = `--${name}-file`;
  const env = `KEYWARD_${name.toUpperCase()}_FILE`;
  const path = values[`${name}-file`] ?? (process.env[env] || undefined);
  if (path === undefined) return undefined;
  const label = values[`${name}-file`] === undefined ? env : flag;
  const text = readText(path, label);
  if (!text.includes("-----BEGIN "))
    throw new UsageError(`${label} ${path}: not a PEM file (no "-----BEGIN" line)`);
  return { text, label };
}
