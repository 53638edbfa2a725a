import { parseArgs } from "node:util";
import { bootstrapAdmin } from "../admin/bootstrap.js";
import { ConfigError, loadConfig } from "../config.js";
import { InvalidRequestError } from "../domain/errors.js";
import { MongoKeyStore } from "../store/mongo/mongo-key-store.js";

const HELP = `Usage: keyward bootstrap-admin [--workspace W] [--name N] [--scopes S] [--environment live|test]

Writes an admin key straight to the MongoDB of MONGODB_URI (its digest, made
with KEY_PEPPER) and prints the key once. The key alone goes to standard
output, everything else to standard error, so a script can capture it:

  ROOT_KEY=$(npx keyward bootstrap-admin --name ops)                 # root admin
  ACME_KEY=$(npx keyward bootstrap-admin --workspace acme --name acme-ops)

Options:
  --workspace W      workspace of the admin key (default: "*", the root admin,
                     which acts in every workspace; any other value makes a
                     workspace admin that acts only in W)
  --name N           name shown in ListKeys (default: "bootstrap admin")
  --scopes S         comma-separated admin scopes (default: "keyward:all";
                     "keyward:read" makes a read-only admin)
  --environment E    live or test (default: live)
  -h, --help         this text

Environment: MONGODB_URI, MONGODB_DB, KEY_PEPPER, KEY_PREFIX, SCOPES_FILE (as for the server).
`;

export async function bootstrapCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        workspace: { type: "string", default: "*" },
        name: { type: "string", default: "bootstrap admin" },
        scopes: { type: "string", default: "keyward:all" },
        environment: { type: "string", default: "live" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`keyward bootstrap-admin: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.environment !== "live" && values.environment !== "test") {
    process.stderr.write(`keyward bootstrap-admin: --environment must be live or test, got ${JSON.stringify(values.environment)}\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`keyward bootstrap-admin: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (config.mongodbUri === null || config.keyPepper === null) {
    process.stderr.write("keyward bootstrap-admin: MONGODB_URI and KEY_PEPPER must be set (dev mode prints its own root key at start)\n");
    return 2;
  }
  const store = MongoKeyStore.create({ uri: config.mongodbUri, dbName: config.mongodbDb, timeoutMs: Math.max(config.mongodbTimeoutMs, 10_000) });
  try {
    process.stderr.write(`connecting to database ${config.mongodbDb}…\n`);
    await store.ensureIndexes();
    const scopes = values.scopes.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const { key, record } = await bootstrapAdmin(
      store,
      { catalog: config.catalog, pepper: config.keyPepper, prefix: config.keyPrefix },
      { workspace: values.workspace!, name: values.name!, scopes, environment: values.environment },
    );
    const kind = record.workspace === "*" ? "root admin key (acts in every workspace)" : `admin key for workspace ${record.workspace}`;
    process.stderr.write(`created ${kind} ${record.id} with scopes ${record.scopes.join(",")}\n`);
    process.stderr.write("the key is printed once on standard output; store it now, it cannot be shown again\n");
    process.stdout.write(`${key}\n`);
    return 0;
  } catch (err) {
    if (err instanceof InvalidRequestError) {
      process.stderr.write(`keyward bootstrap-admin: ${err.message.replace(/^workspace/, "--workspace").replace(/^scopes/, "--scopes")}\n`);
      return 2;
    }
    throw err;
  } finally {
    await store.close();
  }
}
