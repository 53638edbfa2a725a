import { toJson } from "@bufbuild/protobuf";
import {
  CreateWebhookResponseSchema,
  ListWebhooksResponseSchema,
  type Webhook,
  type WebhookDelivery,
  WebhookDeliveryStatus,
} from "../../gen/keyward/v1/webhooks_pb.js";
import type { KeywardClient } from "../client/index.js";
import {
  CONNECTION_HELP,
  connect,
  date,
  EXIT,
  print,
  printJson,
  table,
  UsageError,
} from "./admin-cli.js";
import { type CommandFlags, command, limitFlag } from "./command.js";

const HELP = `Usage: keyward webhooks <create|list|events|delete> [options]

  create URL [--workspace W] [--event TYPE]...
        a webhook that receives the workspace's key events (workspace * receives all,
        root admins only), signed as Standard Webhooks do; prints its secret ONCE.
        --event limits it to some types (repeatable): key.created, key.updated,
        key.revoked, key.rotated, key.leaked, key.expiring, finding.opened. The URL
        must start with a prefix of keyward's WEBHOOK_URL_ALLOWLIST.
  list [--workspace W]
        webhooks with their delivery state: last success, last failure, pending events
  events ID [--limit N]
        the webhook's recent events, newest first (default 20, at most 100): id, type,
        when queued, status, when delivered, attempts, last error; kept 7 days
  delete ID
        stops a webhook; its undelivered events are dropped

${CONNECTION_HELP}
`;

const OPTIONS = {
  workspace: { type: "string" },
  event: { type: "string", multiple: true },
  limit: { type: "string" },
} as const;
type Values = CommandFlags<typeof OPTIONS>;

function row(w: Webhook): string[] {
  return [
    w.id,
    w.workspace,
    w.url,
    w.events.join(",") || "all",
    date(w.lastSuccessAt),
    date(w.lastFailureAt),
    w.lastFailure,
    String(w.pending),
  ];
}

const STATUS: Record<WebhookDeliveryStatus, string> = {
  [WebhookDeliveryStatus.UNSPECIFIED]: "?",
  [WebhookDeliveryStatus.PENDING]: "pending",
  [WebhookDeliveryStatus.DELIVERED]: "delivered",
  [WebhookDeliveryStatus.FAILED]: "failed",
};

function eventRow(d: WebhookDelivery): string[] {
  return [
    d.eventId,
    d.type || "(pruned)",
    date(d.createdAt),
    STATUS[d.status],
    date(d.deliveredAt),
    String(d.attempts),
    d.lastError,
  ];
}

async function create(client: KeywardClient, values: Values, rest: string[]): Promise<number> {
  if (rest.length !== 1)
    throw new UsageError(
      "create needs the webhook's URL, e.g. keyward webhooks create https://hooks.example.com/keyward",
    );
  const res = await client.admin.createWebhook({
    url: rest[0]!,
    workspace: values.workspace ?? "",
    events: values.event ?? [],
  });
  if (values.json) printJson(toJson(CreateWebhookResponseSchema, res));
  else
    print(
      `created ${res.webhook!.id} (workspace ${res.webhook!.workspace})\nsigning secret (shown once): ${res.secret}\n`,
    );
  return EXIT.ok;
}

async function list(client: KeywardClient, values: Values): Promise<number> {
  const res = await client.admin.listWebhooks({ workspace: values.workspace ?? "" });
  if (values.json) printJson(toJson(ListWebhooksResponseSchema, res));
  else if (res.webhooks.length === 0) print("no webhooks\n");
  else {
    const headers = ["ID", "WORKSPACE", "URL", "EVENTS", "LAST SUCCESS", "LAST FAILURE", "ERROR"];
    print(table([...headers, "PENDING"], res.webhooks.map(row), 60));
  }
  return EXIT.ok;
}

/** ListWebhooks of the one webhook, with its recent deliveries. */
async function events(client: KeywardClient, values: Values, rest: string[]): Promise<number> {
  if (rest.length !== 1)
    throw new UsageError("events needs one webhook id, e.g. keyward webhooks events wh_…");
  const limit = limitFlag(values.limit, 20);
  if (limit > 100) throw new UsageError(`--limit must be at most 100, got ${limit}`);
  const res = await client.admin.listWebhooks({ id: rest[0]!, recentDeliveries: limit });
  const recent = res.webhooks[0]?.recentDeliveries ?? [];
  if (values.json) printJson(toJson(ListWebhooksResponseSchema, res));
  else if (recent.length === 0) print(`no recent events for ${rest[0]}\n`);
  else {
    const headers = ["EVENT ID", "TYPE", "CREATED", "STATUS", "DELIVERED", "ATTEMPTS", "ERROR"];
    print(table(headers, recent.map(eventRow), 72));
  }
  return EXIT.ok;
}

async function remove(client: KeywardClient, values: Values, rest: string[]): Promise<number> {
  if (rest.length !== 1) throw new UsageError("delete needs one webhook id");
  await client.admin.deleteWebhook({ id: rest[0]! });
  if (values.json) printJson({});
  else print(`deleted ${rest[0]}\n`);
  return EXIT.ok;
}

export const webhooksCommand = command(
  "keyward webhooks",
  HELP,
  OPTIONS,
  async (values, positionals) => {
    const [verb, ...rest] = positionals;
    if (verb === undefined) {
      print(HELP);
      return EXIT.usage;
    }
    const verbs = { create, list, events, delete: remove } as const;
    if (!Object.hasOwn(verbs, verb))
      throw new UsageError(
        `unknown subcommand ${JSON.stringify(verb)}: create, list, events or delete`,
      );
    const client = await connect(values);
    return verbs[verb as keyof typeof verbs](client, values, rest);
  },
);
