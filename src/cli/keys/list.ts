import { KeyStatus, ListKeysResponseSchema } from "../../../gen/keyward/v1/key_admin_pb.js";
import { CONNECTION_HELP, connect, UsageError } from "../admin-cli.js";
import { collectPages, command, limitFlag, respond } from "../command.js";
import { keyRows } from "./output.js";

const HELP = `Usage: keyward keys list [--workspace W] [--status active|revoked|expired] [--limit N]

  --workspace W      one workspace (default: the admin key's; every workspace for root)
  --status S         only keys in this state
  --limit N          at most N keys (default 100)

${CONNECTION_HELP}
`;

const OPTIONS = {
  workspace: { type: "string" },
  status: { type: "string" },
  limit: { type: "string" },
} as const;

const STATUS: Record<string, KeyStatus> = {
  active: KeyStatus.ACTIVE,
  revoked: KeyStatus.REVOKED,
  expired: KeyStatus.EXPIRED,
};

function statusFlag(status: string | undefined): KeyStatus {
  if (!status) return KeyStatus.UNSPECIFIED;
  if (!Object.hasOwn(STATUS, status))
    throw new UsageError(
      `--status must be active, revoked or expired, got ${JSON.stringify(status)}`,
    );
  return STATUS[status]!;
}

export const listCommand = command("keyward keys list", HELP, OPTIONS, async (values) => {
  const limit = limitFlag(values.limit, 100);
  const status = statusFlag(values.status);
  const client = await connect(values);
  const { items: keys, next } = await collectPages(limit, async (pageSize, pageToken) => {
    const page = await client.admin.listKeys({
      workspace: values.workspace ?? "",
      status,
      pageSize,
      pageToken,
    });
    return { items: page.keys, next: page.nextPageToken };
  });
  const res = { $typeName: "keyward.v1.ListKeysResponse", keys, nextPageToken: next } as const;
  return respond(values.json, ListKeysResponseSchema, res, () => keyRows(keys));
});
