import { bootstrapCommand } from "./bootstrap-admin.js";
import { findingsCommand } from "./findings.js";
import { healthcheckCommand } from "./healthcheck.js";
import { keysCommand } from "./keys.js";
import { leakReportsCommand } from "./leak-reports.js";
import { auditCommand, scopesCommand } from "./scopes-audit.js";
import { webhooksCommand } from "./webhooks.js";

const USAGE = `Usage: keyward <command> [options]

Commands:
  keys              create, list, get, update, revoke and rotate keys (over gRPC)
  scopes            the scope catalog
  audit             admin actions, newest first
  findings          what to look at in the keys: unused, over-scoped, never expiring, retired yet still used
  bootstrap-admin   write the first admin key straight to MongoDB and print it once
  healthcheck       ask the local server's grpc.health.v1 Health/Check; exit 0 when SERVING
  webhooks          create, list and delete webhooks that receive signed key events
  leak-reports      keygen and sign for a scanner that reports leaked keys to POST /v1/leak-reports
  dev               run keyward in dev mode: in memory, on 127.0.0.1, a root key printed once (MONGODB_URI unset)

keys, scopes, audit and findings talk to keyward at KEYWARD_URL (default http://127.0.0.1:50051)
with the admin key in KEYWARD_ADMIN_KEY or --admin-key-file (--admin-key works too, but
shows in ps and shell history); --url; for mTLS --ca-file, --cert-file, --key-file (or
KEYWARD_CA_FILE, KEYWARD_CERT_FILE, KEYWARD_KEY_FILE).

Run 'keyward <command> --help' for a command's options.
`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  keys: keysCommand,
  scopes: scopesCommand,
  audit: auditCommand,
  findings: findingsCommand,
  "bootstrap-admin": bootstrapCommand,
  healthcheck: healthcheckCommand,
  dev: devCommand,
  "leak-reports": leakReportsCommand,
  webhooks: webhooksCommand,
};

const DEV_HELP = `Usage: keyward dev

Runs a keyward server. Without MONGODB_URI: dev mode, an in-memory store that keeps
nothing, on 127.0.0.1 (unless HOST is set), with a root admin key printed once to the
terminal. With MONGODB_URI (and KEY_PEPPER) set it uses MongoDB, as the production entry
does. Refused under NODE_ENV=production. Configuration: the variables of docs/operations.md.
`;

async function devCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(DEV_HELP);
    return 0;
  }
  const { runServer } = await import("../app/serve.js");
  await runServer(true);
  // The server runs until a signal; app/serve.ts exits the process then.
  return new Promise<number>(() => {});
}

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === "--help" || name === "-h" || name === "help") {
  process.stdout.write(USAGE);
  process.exit(name === undefined ? 2 : 0);
}
const command = commands[name];
if (!command) {
  process.stderr.write(`keyward: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
  process.exit(2);
}
try {
  process.exit(await command(rest));
} catch (err) {
  process.stderr.write(`keyward ${name}: ${(err as Error).message}\n`);
  process.exit(1);
}
