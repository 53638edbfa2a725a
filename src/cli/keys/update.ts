import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type ApiKeySchema,
  UpdateKeyResponseSchema,
} from "../../../gen/keyward/v1/key_admin_pb.js";
import type { KeywardClient } from "../../client/index.js";
import { CONNECTION_HELP, connect, UsageError } from "../admin-cli.js";
import { type CommandFlags, command, respond } from "../command.js";
import { EXPIRY_OPTIONS, expiry, oneId } from "./args.js";
import { keyDetails } from "./output.js";

const HELP = `Usage: keyward keys update ID [options]

  --name N           rename
  --scope S          replace the scopes with these; repeatable
  --add-scope S      grant S as well; repeatable
  --remove-scope S   stop granting S; repeatable
  --domain D         replace the allowed domains with these; repeatable
  --any-domain       remove the domain restriction
  --expires-at DATE  new expiry (or "never")
  --expires-in T     expire after T from now

${CONNECTION_HELP}
`;

const OPTIONS = {
  name: { type: "string" },
  scope: { type: "string", multiple: true },
  "add-scope": { type: "string", multiple: true },
  "remove-scope": { type: "string", multiple: true },
  domain: { type: "string", multiple: true },
  "any-domain": { type: "boolean" },
  ...EXPIRY_OPTIONS,
} as const;

type UpdateFlags = CommandFlags<typeof OPTIONS>;

const NOTHING_TO_CHANGE =
  "nothing to change: pass --name, --scope, --add-scope, --remove-scope, --domain, --any-domain, --expires-in or --expires-at";

function refuseConflictingFlags(values: UpdateFlags): void {
  if (values.scope && (values["add-scope"] || values["remove-scope"]))
    throw new UsageError("use --scope to replace, or --add-scope/--remove-scope, not both");
  if (values.domain && values["any-domain"])
    throw new UsageError("use --domain or --any-domain, not both");
}

/** The scopes to set: --scope as given, or the key's scopes as they are now with --add-scope/--remove-scope applied. */
async function newScopes(
  client: KeywardClient,
  id: string,
  values: UpdateFlags,
): Promise<string[]> {
  if (values.scope) return values.scope;
  const current = (await client.admin.getKey({ id })).apiKey!.scopes;
  const remove = new Set(values["remove-scope"] ?? []);
  return [...new Set([...current, ...(values["add-scope"] ?? [])])].filter((s) => !remove.has(s));
}

/** The changed fields and the update mask naming them, in the order of the flags. */
async function changes(client: KeywardClient, id: string, values: UpdateFlags) {
  const paths: string[] = [];
  const apiKey: MessageInitShape<typeof ApiKeySchema> = { id };
  if (values.name !== undefined) {
    paths.push("name");
    apiKey.name = values.name;
  }
  if (values.scope || values["add-scope"] || values["remove-scope"]) {
    paths.push("scopes");
    apiKey.scopes = await newScopes(client, id, values);
  }
  if (values.domain || values["any-domain"]) {
    paths.push("allowed_domains");
    apiKey.allowedDomains = values.domain ?? [];
  }
  if (values["expires-in"] || values["expires-at"]) {
    paths.push("expires_at");
    apiKey.expiresAt = expiry(values);
  }
  if (paths.length === 0) throw new UsageError(NOTHING_TO_CHANGE);
  return { apiKey, paths };
}

export const updateCommand = command(
  "keyward keys update",
  HELP,
  OPTIONS,
  async (values, positionals) => {
    const id = oneId(positionals);
    refuseConflictingFlags(values);
    const client = await connect(values);
    const { apiKey, paths } = await changes(client, id, values);
    const res = await client.admin.updateKey({ apiKey, updateMask: { paths } });
    return respond(
      values.json,
      UpdateKeyResponseSchema,
      res,
      () => `Updated ${paths.join(", ")}\n\n${keyDetails(res.apiKey!)}`,
    );
  },
);
