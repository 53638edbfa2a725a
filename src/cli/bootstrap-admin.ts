import { parseArgs } from "node:util";
import { type BootstrapOptions, bootstrapAdmin } from "../admin/bootstrap.js";
import { type Config, ConfigError, loadConfig } from "../config.js";
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

const NAME = "keyward bootstrap-admin";

const OPTIONS = {
  workspace: { type: "string", default: "*" },
  name: { type: "string", default: "bootstrap admin" },
  scopes: { type: "string", default: "keyward:all" },
  environment: { type: "string", default: "live" },
  help: { type: "boolean", short: "h" },
} as const;

/** A usage problem: one line on stderr (and the help, for unknown flags), exit 2. */
class Refused extends Error {}

function usage(message: string, withHelp = false): never {
  throw new Refused(`${NAME}: ${message}\n${withHelp ? `\n${HELP}` : ""}`);
}

function parseFlags(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, strict: true }).values;
  } catch (err) {
    usage((err as Error).message, true);
  }
}

function bootstrapOptions(values: ReturnType<typeof parseFlags>): BootstrapOptions {
  const { environment } = values;
  if (environment !== "live" && environment !== "test")
    usage(`--environment must be live or test, got ${JSON.stringify(environment)}`);
  const scopes = values.scopes
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return { workspace: values.workspace, name: values.name, scopes, environment };
}

/** The server's configuration, which must name a MongoDB: dev mode keeps nothing to bootstrap. */
function mongoConfig(): Config & { mongodbUri: string; keyPepper: string } {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) usage(err.message);
    throw err;
  }
  if (config.mongodbUri === null || config.keyPepper === null)
    usage("MONGODB_URI and KEY_PEPPER must be set (dev mode prints its own root key at start)");
  return { ...config, mongodbUri: config.mongodbUri, keyPepper: config.keyPepper };
}

async function createAdminKey(
  config: Config & { keyPepper: string },
  store: MongoKeyStore,
  options: BootstrapOptions,
): Promise<void> {
  process.stderr.write(`connecting to database ${config.mongodbDb}…\n`);
  await store.ensureIndexes();
  try {
    const { key, record } = await bootstrapAdmin(
      store,
      { catalog: config.catalog, pepper: config.keyPepper, prefix: config.keyPrefix },
      options,
    );
    const kind =
      record.workspace === "*"
        ? "root admin key (acts in every workspace)"
        : `admin key for workspace ${record.workspace}`;
    process.stderr.write(`created ${kind} ${record.id} with scopes ${record.scopes.join(",")}\n`);
    process.stderr.write(
      "the key is printed once on standard output; store it now, it cannot be shown again\n",
    );
    process.stdout.write(`${key}\n`);
  } catch (err) {
    // Name the flag the operator typed, not the request field.
    if (err instanceof InvalidRequestError)
      usage(err.message.replace(/^workspace/, "--workspace").replace(/^scopes/, "--scopes"));
    throw err;
  }
}

export async function bootstrapCommand(args: string[]): Promise<number> {
  try {
    const values = parseFlags(args);
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const options = bootstrapOptions(values);
    const config = mongoConfig();
    const store = MongoKeyStore.create({
      uri: config.mongodbUri,
      dbName: config.mongodbDb,
      timeoutMs: Math.max(config.mongodbTimeoutMs, 10_000),
    });
    try {
      await createAdminKey(config, store, options);
      return 0;
    } finally {
      await store.close();
    }
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    process.stderr.write(err.message);
    return 2;
  }
}
