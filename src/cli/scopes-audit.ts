import { toJson } from "@bufbuild/protobuf";
import { AuditAction, ListAuditEventsResponseSchema, ListScopesResponseSchema, type AuditEvent } from "../../gen/keyward/v1/key_admin_pb.js";
import { CONNECTION_HELP, connect, date, EXIT, fail, parse, print, printJson, table, UsageError } from "./admin-cli.js";

const SCOPES_HELP = `Usage: keyward scopes

The scope catalog: every scope keys can be given, with what it allows.

${CONNECTION_HELP}
`;

const AUDIT_HELP = `Usage: keyward audit [--workspace W] [--limit N]

Admin actions (create, update, revoke, rotate), newest first.

  --workspace W      one workspace (default: the admin key's own)
  --limit N          at most N events (default 50)

${CONNECTION_HELP}
`;

export async function scopesCommand(args: string[]): Promise<number> {
  let url: string | undefined;
  try {
    const { values, positionals } = parse(args, {});
    if (values.help) return print(SCOPES_HELP), EXIT.ok;
    url = values.url;
    if (positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(positionals[0])}`);
    const client = await connect(values);
    const res = await client.admin.listScopes({});
    if (values.json) printJson(toJson(ListScopesResponseSchema, res));
    else print(table(["SCOPE", "DESCRIPTION"], res.scopes.map((s) => [s.name, s.description]), 100));
    return EXIT.ok;
  } catch (err) {
    return fail("keyward scopes", err, url);
  }
}

function changes(e: AuditEvent): string {
  return e.changes.map((c) => `${c.field}: ${c.before} → ${c.after}`).join("; ");
}

export async function auditCommand(args: string[]): Promise<number> {
  let url: string | undefined;
  try {
    const { values, positionals } = parse(args, { workspace: { type: "string" }, limit: { type: "string" } });
    if (values.help) return print(AUDIT_HELP), EXIT.ok;
    url = values.url;
    if (positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(positionals[0])}`);
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit <= 0) throw new UsageError(`--limit must be a positive integer, got ${JSON.stringify(values.limit)}`);
    const client = await connect(values);
    const events: AuditEvent[] = [];
    let pageToken = "";
    do {
      const page = await client.admin.listAuditEvents({ workspace: values.workspace ?? "", pageSize: Math.min(1000, limit - events.length), pageToken });
      events.push(...page.events);
      pageToken = page.nextPageToken;
    } while (pageToken !== "" && events.length < limit);
    if (values.json) printJson(toJson(ListAuditEventsResponseSchema, { $typeName: "keyward.v1.ListAuditEventsResponse", events, nextPageToken: pageToken }));
    else print(events.length === 0 ? "no events\n" : table(["TIME", "ACTION", "ACTOR", "TARGET", "CHANGES"], events.map((e) => [date(e.occurredAt), AuditAction[e.action]?.toLowerCase() ?? "", e.actorKeyId, e.targetKeyId, changes(e)]), 80));
    return EXIT.ok;
  } catch (err) {
    return fail("keyward audit", err, url);
  }
}
