import { toJson } from "@bufbuild/protobuf";
import {
  CreateWebhookResponseSchema,
  ListWebhooksResponseSchema,
  type Webhook,
} from "../../gen/keyward/v1/webhooks_pb.js";
import type { KeywardClient } from "../client/index.js";
import {
  CONNECTION_HELP,
  connect,
  date,
  EXIT,
  fail,
  parse,
  print,
  printJson,
  table,
  UsageError,
} from "./admin-cli.js";

const HELP = `Usage: keyward webhooks <create|list|delete> [options]

  create URL [--workspace W] [--event TYPE]...
        a webhook that receives the workspace's key events (workspace * receives all,
        root admins only), signed as Standard Webhooks do; prints its secret ONCE.
        --event limits it to some types (repeatable): key.created, key.updated,
        key.revoked, key.rotated, key.leaked, key.expiring. The URL must start with a
        prefix of keyward's WEBHOOK_URL_ALLOWLIST.
  list [--workspace W]
        webhooks with their delivery state: last success, last failure, pending events
  delete ID
        stops a webhook; its undelivered events are dropped

${CONNECTION_HELP}
`;

const OPTIONS = {
  workspace: { type: "string" },
  event: { type: "string", multiple: true },
} as const;

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

type Values = ReturnType<typeof parse<typeof OPTIONS>>["values"];
type Verb = (client: KeywardClient, values: Values, rest: string[]) => Promise<number>;

export async function webhooksCommand(args: string[]): Promise<number> {
  let url: string | undefined;
  try {
    const { values, positionals } = parse(args, OPTIONS);
    url = values.url;
    const [verb, ...rest] = positionals;
    if (values.help || verb === undefined) {
      print(HELP);
      return verb === undefined && !values.help ? EXIT.usage : EXIT.ok;
    }
    const run = Object.hasOwn(VERBS, verb) ? VERBS[verb as keyof typeof VERBS] : undefined;
    if (!run)
      throw new UsageError(`unknown subcommand ${JSON.stringify(verb)}: create, list or delete`);
    return await run(await connect(values), values, rest);
  } catch (err) {
    return fail("keyward webhooks", err, url);
  }
}

const create: Verb = async (client, values, rest) => {
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
};

const COLUMNS = [
  "ID",
  "WORKSPACE",
  "URL",
  "EVENTS",
  "LAST SUCCESS",
  "LAST FAILURE",
  "ERROR",
  "PENDING",
];

const list: Verb = async (client, values) => {
  const res = await client.admin.listWebhooks({ workspace: values.workspace ?? "" });
  if (values.json) printJson(toJson(ListWebhooksResponseSchema, res));
  else
    print(res.webhooks.length === 0 ? "no webhooks\n" : table(COLUMNS, res.webhooks.map(row), 60));
  return EXIT.ok;
};

const remove: Verb = async (client, values, rest) => {
  if (rest.length !== 1) throw new UsageError("delete needs one webhook id");
  await client.admin.deleteWebhook({ id: rest[0]! });
  if (values.json) printJson({});
  else print(`deleted ${rest[0]}\n`);
  return EXIT.ok;
};

const VERBS = { create, list, delete: remove };
