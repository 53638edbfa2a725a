import { createInterface } from "node:readline/promises";
import { toJson, type MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ApiKeySchema,
  CreateKeyResponseSchema,
  Environment,
  GetKeyResponseSchema,
  KeyStatus,
  ListKeysResponseSchema,
  RevokeKeyResponseSchema,
  RotateKeyResponseSchema,
  UpdateKeyResponseSchema,
  type ApiKey,
} from "../../gen/keyward/v1/key_admin_pb.js";
import { CONNECTION_HELP, connect, date, EXIT, fail, parse, parseDate, parseDuration, print, printJson, table, UsageError } from "./admin-cli.js";

const HELP = `Usage: keyward keys <command> [options]

Commands:
  create    make a key; prints its secret once
  list      keys as a table (newest first)
  get ID    one key's record
  update ID change name, scopes, domains or expiry
  revoke ID stop a key at once (asks on a terminal; --yes to skip)
  rotate ID a new secret with the same settings; the old one works for --grace

Run 'keyward keys <command> --help' for its options.
`;

const HELPS: Record<string, string> = {
  create: `Usage: keyward keys create --workspace W --name N --scope S [--scope S…] [options]

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
`,
  list: `Usage: keyward keys list [--workspace W] [--status active|revoked|expired] [--limit N]

  --workspace W      one workspace (default: the admin key's; every workspace for root)
  --status S         only keys in this state
  --limit N          at most N keys (default 100)

${CONNECTION_HELP}
`,
  get: `Usage: keyward keys get ID\n\n${CONNECTION_HELP}\n`,
  update: `Usage: keyward keys update ID [options]

  --name N           rename
  --scope S          replace the scopes with these; repeatable
  --add-scope S      grant S as well; repeatable
  --remove-scope S   stop granting S; repeatable
  --domain D         replace the allowed domains with these; repeatable
  --any-domain       remove the domain restriction
  --expires-at DATE  new expiry (or "never")
  --expires-in T     expire after T from now

${CONNECTION_HELP}
`,
  revoke: `Usage: keyward keys revoke ID [--reason R] [--yes]

  --reason R         why (kept in the record and the audit log)
  --yes              do not ask for confirmation (required when not on a terminal)

Revocation is immediate and cannot be undone.

${CONNECTION_HELP}
`,
  rotate: `Usage: keyward keys rotate ID [--grace T]

  --grace T          how long the old secret keeps working (default 24h; 0 ends it now)

Prints the new secret once.

${CONNECTION_HELP}
`,
};

const STATUS: Record<string, KeyStatus> = { active: KeyStatus.ACTIVE, revoked: KeyStatus.REVOKED, expired: KeyStatus.EXPIRED };

function statusName(s: KeyStatus): string {
  return KeyStatus[s]?.toLowerCase() ?? "unknown";
}

function keyRows(keys: ApiKey[]): string {
  return table(
    ["ID", "NAME", "KEY", "WORKSPACE", "SCOPES", "DOMAINS", "STATUS", "CREATED", "LAST USED", "EXPIRES"],
    keys.map((k) => [k.id, k.name, k.keyPreview, k.workspace, k.scopes.join(","), k.allowedDomains.join(",") || "any", statusName(k.status), date(k.createdAt), date(k.lastUsedAt), date(k.expiresAt)]),
  );
}

function keyDetails(k: ApiKey): string {
  const rows: [string, string][] = [
    ["id", k.id],
    ["name", k.name],
    ["key", k.keyPreview],
    ["workspace", k.workspace],
    ["environment", Environment[k.environment]?.toLowerCase() ?? ""],
    ["status", statusName(k.status)],
    ["scopes", k.scopes.join(", ")],
    ["domains", k.allowedDomains.join(", ") || "any"],
    ["created", date(k.createdAt)],
    ["updated", date(k.updatedAt)],
    ["last used", date(k.lastUsedAt)],
    ["expires", date(k.expiresAt)],
    ...(k.revokedAt ? ([["revoked at", `${date(k.revokedAt)} (${k.revokeReason})`]] as [string, string][]) : []),
    ...(k.successorId ? ([["rotated to", k.successorId]] as [string, string][]) : []),
    ...Object.entries(k.metadata).map(([mk, v]) => [`meta ${mk}`, v] as [string, string]),
  ];
  return rows.map(([label, value]) => `${label.padEnd(12)} ${value}`).join("\n") + "\n";
}

function secretNotice(secret: string, k: ApiKey, verb: string): string {
  return `${verb} ${k.id} (${k.name}, workspace ${k.workspace}, scopes ${k.scopes.join(",")})\n\n  ${secret}\n\n⚠  This secret is shown once and cannot be shown again: store it now.\n`;
}

function expiry(values: { "expires-in"?: string; "expires-at"?: string }) {
  if (values["expires-in"] && values["expires-at"]) throw new UsageError("use --expires-in or --expires-at, not both");
  if (values["expires-in"]) return timestampFromDate(new Date(Date.now() + parseDuration(values["expires-in"], "--expires-in")));
  if (values["expires-at"] && values["expires-at"] !== "never") return timestampFromDate(parseDate(values["expires-at"], "--expires-at"));
  return undefined;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

function oneId(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`expected one key id (key_…), got ${positionals.length}`);
  return positionals[0]!;
}

export async function keysCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    print(HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = `keyward keys ${sub}`;
  if (!HELPS[sub]) {
    process.stderr.write(`keyward keys: unknown command ${JSON.stringify(sub)}\n\n${HELP}`);
    return EXIT.usage;
  }
  let url: string | undefined;
  try {
    switch (sub) {
      case "create": {
        const { values } = parse(rest, {
          workspace: { type: "string" },
          name: { type: "string" },
          scope: { type: "string", multiple: true },
          domain: { type: "string", multiple: true },
          "expires-in": { type: "string" },
          "expires-at": { type: "string" },
          env: { type: "string" },
          meta: { type: "string", multiple: true },
        });
        if (values.help) return print(HELPS[sub]!), EXIT.ok;
        url = values.url;
        if (!values.name) throw new UsageError("--name is required");
        if (!values.scope?.length) throw new UsageError("at least one --scope is required (see keyward scopes)");
        if (values.env && values.env !== "live" && values.env !== "test") throw new UsageError(`--env must be live or test, got ${JSON.stringify(values.env)}`);
        const metadata = Object.fromEntries(
          (values.meta ?? []).map((m) => {
            const i = m.indexOf("=");
            if (i <= 0) throw new UsageError(`--meta must be KEY=VALUE, got ${JSON.stringify(m)}`);
            return [m.slice(0, i), m.slice(i + 1)];
          }),
        );
        const client = await connect(values);
        const res = await client.admin.createKey({
          name: values.name,
          workspace: values.workspace ?? "",
          scopes: values.scope,
          allowedDomains: values.domain ?? [],
          expiresAt: expiry(values),
          environment: values.env === "test" ? Environment.TEST : values.env === "live" ? Environment.LIVE : Environment.UNSPECIFIED,
          metadata,
        });
        if (values.json) printJson(toJson(CreateKeyResponseSchema, res));
        else print(secretNotice(res.key, res.apiKey!, "Created"));
        return EXIT.ok;
      }
      case "list": {
        const { values } = parse(rest, { workspace: { type: "string" }, status: { type: "string" }, limit: { type: "string" } });
        if (values.help) return print(HELPS[sub]!), EXIT.ok;
        url = values.url;
        const limit = values.limit === undefined ? 100 : Number(values.limit);
        if (!Number.isInteger(limit) || limit <= 0) throw new UsageError(`--limit must be a positive integer, got ${JSON.stringify(values.limit)}`);
        if (values.status && !STATUS[values.status]) throw new UsageError(`--status must be active, revoked or expired, got ${JSON.stringify(values.status)}`);
        const client = await connect(values);
        const keys: ApiKey[] = [];
        let pageToken = "";
        do {
          const page = await client.admin.listKeys({ workspace: values.workspace ?? "", status: values.status ? STATUS[values.status] : KeyStatus.UNSPECIFIED, pageSize: Math.min(1000, limit - keys.length), pageToken });
          keys.push(...page.keys);
          pageToken = page.nextPageToken;
        } while (pageToken !== "" && keys.length < limit);
        if (values.json) printJson(toJson(ListKeysResponseSchema, { $typeName: "keyward.v1.ListKeysResponse", keys, nextPageToken: pageToken }));
        else print(keys.length === 0 ? "no keys\n" : keyRows(keys));
        return EXIT.ok;
      }
      case "get": {
        const { values, positionals } = parse(rest, {});
        if (values.help) return print(HELPS[sub]!), EXIT.ok;
        url = values.url;
        const id = oneId(positionals);
        const client = await connect(values);
        const res = await client.admin.getKey({ id });
        if (values.json) printJson(toJson(GetKeyResponseSchema, res));
        else print(keyDetails(res.apiKey!));
        return EXIT.ok;
      }
      case "update": {
        const { values, positionals } = parse(rest, {
          name: { type: "string" },
          scope: { type: "string", multiple: true },
          "add-scope": { type: "string", multiple: true },
          "remove-scope": { type: "string", multiple: true },
          domain: { type: "string", multiple: true },
          "any-domain": { type: "boolean" },
          "expires-in": { type: "string" },
          "expires-at": { type: "string" },
        });
        if (values.help) return print(HELPS[sub]!), EXIT.ok;
        url = values.url;
        const id = oneId(positionals);
        if (values.scope && (values["add-scope"] || values["remove-scope"])) throw new UsageError("use --scope to replace, or --add-scope/--remove-scope, not both");
        if (values.domain && values["any-domain"]) throw new UsageError("use --domain or --any-domain, not both");
        const client = await connect(values);
        const paths: string[] = [];
        const apiKey: MessageInitShape<typeof ApiKeySchema> = { id };
        if (values.name !== undefined) (paths.push("name"), (apiKey.name = values.name));
        if (values.scope || values["add-scope"] || values["remove-scope"]) {
          let scopes = values.scope;
          if (!scopes) {
            // Add/remove work on the key's scopes as they are now.
            const current = (await client.admin.getKey({ id })).apiKey!.scopes;
            const remove = new Set(values["remove-scope"] ?? []);
            scopes = [...new Set([...current, ...(values["add-scope"] ?? [])])].filter((s) => !remove.has(s));
          }
          paths.push("scopes");
          apiKey.scopes = scopes;
        }
        if (values.domain || values["any-domain"]) (paths.push("allowed_domains"), (apiKey.allowedDomains = values.domain ?? []));
        if (values["expires-in"] || values["expires-at"]) (paths.push("expires_at"), (apiKey.expiresAt = expiry(values)));
        if (paths.length === 0) throw new UsageError("nothing to change: pass --name, --scope, --add-scope, --remove-scope, --domain, --any-domain, --expires-in or --expires-at");
        const res = await client.admin.updateKey({ apiKey, updateMask: { paths } });
        if (values.json) printJson(toJson(UpdateKeyResponseSchema, res));
        else print(`Updated ${paths.join(", ")}\n\n${keyDetails(res.apiKey!)}`);
        return EXIT.ok;
      }
      case "revoke": {
        const { values, positionals } = parse(rest, { reason: { type: "string" }, yes: { type: "boolean", short: "y" } });
        if (values.help) return print(HELPS[sub]!), EXIT.ok;
        url = values.url;
        const id = oneId(positionals);
        const client = await connect(values);
        if (!values.yes) {
          if (!process.stdin.isTTY) throw new UsageError("refusing to revoke without confirmation when not on a terminal: pass --yes");
          const k = (await client.admin.getKey({ id })).apiKey!;
          if (!(await confirm(`Revoke ${k.id} (${k.name}, workspace ${k.workspace})? It stops working at once; this cannot be undone.`))) {
            process.stderr.write("not revoked\n");
            return EXIT.request;
          }
        }
        const res = await client.admin.revokeKey({ id, reason: values.reason ?? "" });
        if (values.json) printJson(toJson(RevokeKeyResponseSchema, res));
        else print(`Revoked ${res.apiKey!.id} (${res.apiKey!.name}): ${res.apiKey!.revokeReason}\n`);
        return EXIT.ok;
      }
      case "rotate": {
        const { values, positionals } = parse(rest, { grace: { type: "string" } });
        if (values.help) return print(HELPS[sub]!), EXIT.ok;
        url = values.url;
        const id = oneId(positionals);
        const grace = values.grace === undefined ? undefined : durationFromMs(parseDuration(values.grace, "--grace"));
        const client = await connect(values);
        const res = await client.admin.rotateKey({ id, gracePeriod: grace });
        if (values.json) printJson(toJson(RotateKeyResponseSchema, res));
        else print(`${secretNotice(res.key, res.apiKey!, "Rotated to")}The old key ${id} works until ${date(res.previousApiKey?.revokedAt)}.\n`);
        return EXIT.ok;
      }
    }
    return EXIT.usage;
  } catch (err) {
    return fail(command, err, url);
  }
}
