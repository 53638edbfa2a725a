import { RevokeKeyResponseSchema } from "../../../gen/keyward/v1/key_admin_pb.js";
import type { KeywardClient } from "../../client/index.js";
import { CONNECTION_HELP, connect, EXIT, UsageError } from "../admin-cli.js";
import { command, respond } from "../command.js";
import { confirm, oneId } from "./args.js";

const HELP = `Usage: keyward keys revoke ID [--reason R] [--yes]

  --reason R         why (kept in the record and the audit log)
  --yes              do not ask for confirmation (required when not on a terminal)

Revocation is immediate and cannot be undone.

${CONNECTION_HELP}
`;

const OPTIONS = { reason: { type: "string" }, yes: { type: "boolean", short: "y" } } as const;

/** Asks on the terminal, naming the key; never revokes unasked where nobody can answer. */
async function confirmed(client: KeywardClient, id: string): Promise<boolean> {
  if (!process.stdin.isTTY)
    throw new UsageError(
      "refusing to revoke without confirmation when not on a terminal: pass --yes",
    );
  const k = (await client.admin.getKey({ id })).apiKey!;
  return confirm(
    `Revoke ${k.id} (${k.name}, workspace ${k.workspace})? It stops working at once; this cannot be undone.`,
  );
}

export const revokeCommand = command(
  "keyward keys revoke",
  HELP,
  OPTIONS,
  async (values, positionals) => {
    const id = oneId(positionals);
    const client = await connect(values);
    if (!values.yes && !(await confirmed(client, id))) {
      process.stderr.write("not revoked\n");
      return EXIT.request;
    }
    const res = await client.admin.revokeKey({ id, reason: values.reason ?? "" });
    const k = res.apiKey!;
    return respond(
      values.json,
      RevokeKeyResponseSchema,
      res,
      () => `Revoked ${k.id} (${k.name}): ${k.revokeReason}\n`,
    );
  },
);
