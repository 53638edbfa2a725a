import {
  AuditAction,
  type AuditEvent,
  ListAuditEventsResponseSchema,
  ListScopesResponseSchema,
} from "../../gen/keyward/v1/key_admin_pb.js";
import { CONNECTION_HELP, connect, date, table, UsageError } from "./admin-cli.js";
import { collectPages, command, limitFlag, respond } from "./command.js";

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

export const scopesCommand = command(
  "keyward scopes",
  SCOPES_HELP,
  {},
  async (values, positionals) => {
    noPositionals(positionals);
    const client = await connect(values);
    const res = await client.admin.listScopes({});
    return respond(values.json, ListScopesResponseSchema, res, () =>
      table(
        ["SCOPE", "DESCRIPTION"],
        res.scopes.map((s) => [s.name, s.description]),
        100,
      ),
    );
  },
);

function noPositionals(positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(positionals[0])}`);
}

function changes(e: AuditEvent): string {
  return e.changes.map((c) => `${c.field}: ${c.before} → ${c.after}`).join("; ");
}

function auditRows(events: AuditEvent[]): string {
  if (events.length === 0) return "no events\n";
  const rows = events.map((e) => [
    date(e.occurredAt),
    AuditAction[e.action]?.toLowerCase() ?? "",
    e.actorKeyId,
    e.targetKeyId,
    changes(e),
  ]);
  return table(["TIME", "ACTION", "ACTOR", "TARGET", "CHANGES"], rows, 80);
}

const AUDIT_OPTIONS = { workspace: { type: "string" }, limit: { type: "string" } } as const;

export const auditCommand = command(
  "keyward audit",
  AUDIT_HELP,
  AUDIT_OPTIONS,
  async (values, positionals) => {
    noPositionals(positionals);
    const limit = limitFlag(values.limit, 50);
    const client = await connect(values);
    const { items: events, next } = await collectPages(limit, async (pageSize, pageToken) => {
      const page = await client.admin.listAuditEvents({
        workspace: values.workspace ?? "",
        pageSize,
        pageToken,
      });
      return { items: page.events, next: page.nextPageToken };
    });
    const res = {
      $typeName: "keyward.v1.ListAuditEventsResponse",
      events,
      nextPageToken: next,
    } as const;
    return respond(values.json, ListAuditEventsResponseSchema, res, () => auditRows(events));
  },
);
