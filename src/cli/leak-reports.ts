import { generateKeyPairSync, sign } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

const HELP = `Usage: keyward leak-reports <keygen|sign> [options]

A secret scanner of your own (a CI job, a pre-receive hook) reports keys it
finds to POST /v1/leak-reports the way GitHub's secret scanning does: a JSON
array of {token, type, url, source}, signed with an ECDSA P-256 key whose
public half is in keyward's LEAK_REPORT_KEYS_FILE.

  keygen --out <private.pem> [--id <key identifier>]
      Makes a key pair, writes the private key (mode 0600; never give it to
      keyward), and prints the key list for LEAK_REPORT_KEYS_FILE on stdout.
  sign --key <private.pem> [<report.json>]
      Prints the base64 signature of the report (or of stdin) for the
      Github-Public-Key-Signature header.

Example:
  keyward leak-reports keygen --out scanner.pem --id ci-scanner > leak-keys.json
  sig=$(keyward leak-reports sign --key scanner.pem report.json)
  curl -H 'Github-Public-Key-Identifier: ci-scanner' -H "Github-Public-Key-Signature: $sig" \\
       --data-binary @report.json http://127.0.0.1:8080/v1/leak-reports
`;

function fail(message: string): number {
  process.stderr.write(`keyward leak-reports: ${message}\n`);
  return 2;
}

function keygen(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: { out: { type: "string" }, id: { type: "string" }, force: { type: "boolean" } },
    strict: true,
  });
  if (!values.out) return fail("keygen needs --out <private.pem>, the file for the private key");
  if (existsSync(values.out) && !values.force)
    return fail(`${values.out} exists; pass --force to replace it`);
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  writeFileSync(values.out, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  const entry = {
    key_identifier: values.id ?? `scanner-${Date.now()}`,
    key: publicKey.export({ type: "spki", format: "pem" }),
    is_current: true,
  };
  process.stdout.write(`${JSON.stringify({ public_keys: [entry] }, null, 2)}\n`);
  process.stderr.write(
    `private key written to ${values.out}; put the JSON above in LEAK_REPORT_KEYS_FILE\n`,
  );
  return 0;
}

function signReport(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    options: { key: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  if (!values.key) return fail("sign needs --key <private.pem>");
  if (!existsSync(values.key)) return fail(`--key: ${values.key} does not exist`);
  const body = positionals[0] ? readFileSync(positionals[0]) : readFileSync(0);
  // The signature covers the exact bytes sent: send the file as it is (curl --data-binary).
  process.stdout.write(
    `${sign("sha256", body, { key: readFileSync(values.key), dsaEncoding: "der" }).toString("base64")}\n`,
  );
  return 0;
}

export async function leakReportsCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (
    sub === undefined ||
    sub === "--help" ||
    sub === "-h" ||
    rest.includes("--help") ||
    rest.includes("-h")
  ) {
    process.stdout.write(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub === "keygen") return keygen(rest);
  if (sub === "sign") return signReport(rest);
  return fail(`unknown subcommand ${JSON.stringify(sub)}: keygen or sign (see --help)`);
}
