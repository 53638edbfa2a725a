import { createInterface } from "node:readline/promises";
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { parseDate, parseDuration, UsageError } from "../admin-cli.js";

/** Flags and prompts that several `keyward keys` subcommands share. */

export const EXPIRY_OPTIONS = {
  "expires-in": { type: "string" },
  "expires-at": { type: "string" },
} as const;

export function expiry(values: {
  "expires-in"?: string;
  "expires-at"?: string;
}): Timestamp | undefined {
  if (values["expires-in"] && values["expires-at"])
    throw new UsageError("use --expires-in or --expires-at, not both");
  if (values["expires-in"])
    return timestampFromDate(
      new Date(Date.now() + parseDuration(values["expires-in"], "--expires-in")),
    );
  if (values["expires-at"] && values["expires-at"] !== "never")
    return timestampFromDate(parseDate(values["expires-at"], "--expires-at"));
  return undefined;
}

export function oneId(positionals: string[]): string {
  if (positionals.length !== 1)
    throw new UsageError(`expected one key id (key_…), got ${positionals.length}`);
  return positionals[0]!;
}

export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
