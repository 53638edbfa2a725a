import { type ApiKey, Environment, KeyStatus } from "../../../gen/keyward/v1/key_admin_pb.js";
import { date, table } from "../admin-cli.js";

/** How `keyward keys` shows keys: a table for lists, label/value lines for one key. */

function statusName(s: KeyStatus): string {
  return KeyStatus[s]?.toLowerCase() ?? "unknown";
}

const KEY_COLUMNS = [
  "ID",
  "NAME",
  "KEY",
  "WORKSPACE",
  "SCOPES",
  "DOMAINS",
  "STATUS",
  "CREATED",
  "LAST USED",
  "EXPIRES",
];

export function keyRows(keys: ApiKey[]): string {
  if (keys.length === 0) return "no keys\n";
  const rows = keys.map((k) => [
    k.id,
    k.name,
    k.keyPreview,
    k.workspace,
    k.scopes.join(","),
    k.allowedDomains.join(",") || "any",
    statusName(k.status),
    date(k.createdAt),
    date(k.lastUsedAt),
    date(k.expiresAt),
  ]);
  return table(KEY_COLUMNS, rows);
}

/** Rows shown only when they say something: a revocation, a successor, metadata. */
function optionalRows(k: ApiKey): [string, string][] {
  const rows: [string, string][] = [];
  if (k.revokedAt) rows.push(["revoked at", `${date(k.revokedAt)} (${k.revokeReason})`]);
  if (k.successorId) rows.push(["rotated to", k.successorId]);
  for (const [name, value] of Object.entries(k.metadata)) rows.push([`meta ${name}`, value]);
  return rows;
}

export function keyDetails(k: ApiKey): string {
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
    ...optionalRows(k),
  ];
  return `${rows.map(([label, value]) => `${label.padEnd(12)} ${value}`).join("\n")}\n`;
}

export function secretNotice(secret: string, k: ApiKey, verb: string): string {
  return `${verb} ${k.id} (${k.name}, workspace ${k.workspace}, scopes ${k.scopes.join(",")})\n\n  ${secret}\n\n⚠  This secret is shown once and cannot be shown again: store it now.\n`;
}
