import { CreateKeyResponseSchema, Environment } from "../../../gen/keyward/v1/key_admin_pb.js";
import { CONNECTION_HELP, connect, UsageError } from "../admin-cli.js";
import { type CommandFlags, command, respond } from "../command.js";
import { EXPIRY_OPTIONS, expiry } from "./args.js";
import { secretNotice } from "./output.js";

const HELP = `Usage: keyward keys create --workspace W --name N --scope S [--scope S…] [options]

  --workspace W      the key's workspace (an admin key's own by default; required for root)
  --name N           a name people recognise ("Production", "Zapier")
  --scope S          a scope the key grants; repeat for several (see keyward scopes)
  --domain D         allow only this host (e.g. app.acme.com or '*.acme.com'); repeatable
  --expires-in T     expire after T (30d, 12h, 90m)
  --expires-at DATE  expire at DATE (2027-01-31 or an ISO timestamp)
  --env live|test    the key's environment (default live)
  --meta K=V         metadata; repeatable

Prints the secret once, with a warning: it cannot be shown again.

${CONNECTION_HELP}
`;

const OPTIONS = {
  workspace: { type: "string" },
  name: { type: "string" },
  scope: { type: "string", multiple: true },
  domain: { type: "string", multiple: true },
  ...EXPIRY_OPTIONS,
  env: { type: "string" },
  meta: { type: "string", multiple: true },
} as const;

function environment(env: string | undefined): Environment {
  if (!env) return Environment.UNSPECIFIED;
  if (env !== "live" && env !== "test")
    throw new UsageError(`--env must be live or test, got ${JSON.stringify(env)}`);
  return env === "test" ? Environment.TEST : Environment.LIVE;
}

function metadata(pairs: string[] | undefined): Record<string, string> {
  const entries = (pairs ?? []).map((m) => {
    const i = m.indexOf("=");
    if (i <= 0) throw new UsageError(`--meta must be KEY=VALUE, got ${JSON.stringify(m)}`);
    return [m.slice(0, i), m.slice(i + 1)] as const;
  });
  return Object.fromEntries(entries);
}

/** The request from the flags; every flag problem is found before connecting. */
function createRequest(values: CommandFlags<typeof OPTIONS>) {
  if (!values.name) throw new UsageError("--name is required");
  if (!values.scope?.length)
    throw new UsageError("at least one --scope is required (see keyward scopes)");
  const env = environment(values.env);
  return {
    name: values.name,
    workspace: values.workspace ?? "",
    scopes: values.scope,
    allowedDomains: values.domain ?? [],
    environment: env,
    metadata: metadata(values.meta),
  };
}

export const createCommand = command("keyward keys create", HELP, OPTIONS, async (values) => {
  const request = createRequest(values);
  const client = await connect(values);
  const res = await client.admin.createKey({ ...request, expiresAt: expiry(values) });
  return respond(values.json, CreateKeyResponseSchema, res, () =>
    secretNotice(res.key, res.apiKey!, "Created"),
  );
});
