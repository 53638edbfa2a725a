import { ListFindingsResponseSchema } from "../../gen/keyward/v1/usage_pb.js";
import { CONNECTION_HELP, connect, UsageError } from "./admin-cli.js";
import { collectPages, command, respond } from "./command.js";
import { findingRows, KIND_NAMES, kindsFlag } from "./usage/findings-output.js";

const HELP = `Usage: keyward findings [--workspace W] [--kind K…] [--limit N]

What an admin should look at in the keys, from their settings and their usage, key by
key (newest first), with what to do about each:

  never-used           active, older than FINDINGS_UNUSED_DAYS (30), never called
  unused               active, no call in FINDINGS_UNUSED_DAYS
  unused-scopes        holds scopes no allowed call needed in FINDINGS_UNUSED_DAYS
  wildcard             holds * or a resource:all
  no-expiry            active and never expires
  expiring-soon        expires within FINDINGS_EXPIRING_DAYS (7)
  retired-key-in-use   revoked, rotated out or expired, and still presented in 24 h
  unexpected-denials   at least FINDINGS_DENIALS_PER_DAY (100) workspace, domain or
                       scope denials in 24 h

  --workspace W      one workspace (default: the admin key's; every workspace for root)
  --kind K           only these kinds; repeatable or comma-separated (default: all)
  --limit N          at most N findings (default: all of them, page by page)

--json prints ListFindingsResponse as JSON.

${CONNECTION_HELP}
`;

const PAGE_SIZE = 100;

const OPTIONS = {
  workspace: { type: "string" },
  kind: { type: "string", multiple: true },
  limit: { type: "string" },
} as const;

/** --limit as a positive integer; unlike a key list, findings are read to the end by default. */
function limitFlag(value: string | undefined): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit <= 0)
    throw new UsageError(`--limit must be a positive integer, got ${JSON.stringify(value)}`);
  return limit;
}

export const findingsCommand = command(
  "keyward findings",
  HELP,
  OPTIONS,
  async (values, positionals) => {
    if (positionals.length > 0)
      throw new UsageError(
        `unexpected ${JSON.stringify(positionals[0])}; to pick kinds use --kind (${[...KIND_NAMES.keys()].join(", ")})`,
      );
    const kinds = kindsFlag(values.kind);
    const limit = limitFlag(values.limit);
    const client = await connect(values);
    const { items: findings, next } = await collectPages(limit, async (pageSize, pageToken) => {
      const page = await client.admin.listFindings({
        workspace: values.workspace ?? "",
        kinds,
        // Each finding reads its key's usage: small pages keep every request quick.
        pageSize: Math.min(pageSize, PAGE_SIZE),
        pageToken,
      });
      return { items: page.findings, next: page.nextPageToken };
    });
    const res = {
      $typeName: "keyward.v1.ListFindingsResponse",
      findings,
      nextPageToken: next,
    } as const;
    return respond(values.json, ListFindingsResponseSchema, res, () =>
      findingRows(findings, next !== "", process.stdout.isTTY ? process.stdout.columns : undefined),
    );
  },
);
