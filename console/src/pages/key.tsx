import { useEffect, useState } from "preact/hooks";
import {
  type ApiKey,
  AuditAction,
  type AuditEvent,
  KeyStatus,
} from "../../../gen/keyward/v1/key_admin_pb.js";
import { CopyKeyDialog } from "../components/copy-key.js";
import { Note } from "../components/dialog.js";
import { useConsole } from "../context.js";
import { changeValueText, statusLabel, when } from "../format.js";
import { keyHref } from "../route.js";
import { EditKeyDialog, RevokeKeyDialog, RotateKeyDialog } from "./key-actions.js";
import { UsageSection } from "./usage.js";

type Open = "edit" | "rotate" | "revoke" | null;

/** A key's page: heading = its name, settings, Edit/Rotate/Revoke, usage, audit trail. */
export function KeyPage({ id }: { id: string }) {
  const { admin, identity, problem } = useConsole();
  const [apiKey, setApiKey] = useState<ApiKey | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<Open>(null);
  const [rotated, setRotated] = useState<{ secret: string; id: string } | null>(null);
  const [changed, setChanged] = useState(0);
  useEffect(() => {
    setApiKey(null);
    setError(null);
    admin.getKey({ id }).then(
      (r) => setApiKey(r.apiKey ?? null),
      (e) => setError(problem(e)),
    );
  }, [admin, id]);
  if (error) return <Note text={error} />;
  if (!apiKey) return <p>Loading…</p>;
  const saved = (k: ApiKey) => {
    setApiKey(k);
    setOpen(null);
    setChanged((n) => n + 1);
  };
  // A retiring key (rotated, in its grace period) can no longer be changed: its successor can.
  const active = apiKey.status === KeyStatus.ACTIVE && !apiKey.successorId;
  return (
    <article>
      <p>
        <a href="#/keys">← Keys</a>
      </p>
      <div class="title-row">
        <h1>{apiKey.name}</h1>
        {identity.canWrite && active && (
          <div class="actions">
            <button type="button" class="secondary" onClick={() => setOpen("edit")}>
              Edit
            </button>
            <button type="button" class="secondary" onClick={() => setOpen("rotate")}>
              Rotate
            </button>
            <button type="button" class="danger" onClick={() => setOpen("revoke")}>
              Revoke
            </button>
          </div>
        )}
      </div>
      {apiKey.status === KeyStatus.ACTIVE && apiKey.successorId && (
        <p class="note info">
          Rotated: this key keeps working until {when(apiKey.revokedAt)}, then keyward refuses it.
          Change its successor instead.
        </p>
      )}
      <Settings apiKey={apiKey} />
      <UsageSection apiKey={apiKey} onScopesApplied={saved} />
      <AuditTrail apiKey={apiKey} changed={changed} />
      {open === "edit" && (
        <EditKeyDialog apiKey={apiKey} onClose={() => setOpen(null)} onSaved={saved} />
      )}
      {open === "revoke" && (
        <RevokeKeyDialog apiKey={apiKey} onClose={() => setOpen(null)} onRevoked={saved} />
      )}
      {open === "rotate" && (
        <RotateKeyDialog
          apiKey={apiKey}
          onClose={() => setOpen(null)}
          onRotated={(secret, k) => {
            setOpen(null);
            setRotated({ secret, id: k.id });
          }}
        />
      )}
      {rotated && (
        <CopyKeyDialog
          secret={rotated.secret}
          onDone={() => {
            const next = rotated.id;
            setRotated(null);
            location.hash = keyHref(next);
          }}
        />
      )}
    </article>
  );
}

function Settings({ apiKey: k }: { apiKey: ApiKey }) {
  const rows: Array<[string, string]> = [
    ["ID", k.id],
    ["Workspace", k.workspace],
    ["Status", statusLabel(k)],
    ["Environment", k.environment === 2 ? "test" : "live"],
    ["Key", k.keyPreview],
    ["Scopes", k.scopes.join(", ")],
    ["Allowed domains", k.allowedDomains.length ? k.allowedDomains.join(", ") : "any domain"],
    ["Created", when(k.createdAt)],
    ["Updated", when(k.updatedAt)],
    ["Last used", when(k.lastUsedAt, "never")],
    ["Expires", when(k.expiresAt, "never")],
  ];
  if (k.revokedAt)
    rows.push(["Stops working", when(k.revokedAt)], ["Revoke reason", k.revokeReason || "—"]);
  return (
    <section aria-labelledby="settings-h">
      <h2 id="settings-h">Settings</h2>
      <dl class="settings">
        {rows.map(([term, value]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
        {k.successorId && (
          <div>
            <dt>Rotated to</dt>
            <dd>
              <a href={keyHref(k.successorId)}>{k.successorId}</a>
            </dd>
          </div>
        )}
      </dl>
    </section>
  );
}

const ACTIONS: Record<number, string> = {
  [AuditAction.CREATE]: "created",
  [AuditAction.UPDATE]: "updated",
  [AuditAction.REVOKE]: "revoked",
  [AuditAction.ROTATE]: "rotated",
};
export const actionLabel = (a: AuditAction) => ACTIONS[a] ?? "changed";
export const changeText = (e: AuditEvent) =>
  e.changes
    .map((c) => ({
      field: c.field,
      before: changeValueText(c.before),
      after: changeValueText(c.after),
    }))
    .filter((c) => c.before !== c.after)
    .map((c) =>
      c.before === "—" ? `${c.field}: ${c.after}` : `${c.field}: ${c.before} → ${c.after}`,
    )
    .join("; ");

/** ListAuditEvents has no key filter: read the workspace's recent pages and keep this key's events. */
function AuditTrail({ apiKey, changed }: { apiKey: ApiKey; changed: number }) {
  const { admin, problem } = useConsole();
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    (async () => {
      const mine: AuditEvent[] = [];
      let token = "";
      for (let page = 0; page < 5; page++) {
        const r = await admin.listAuditEvents({
          workspace: apiKey.workspace,
          pageSize: 200,
          pageToken: token,
        });
        mine.push(...r.events.filter((e) => e.targetKeyId === apiKey.id));
        if (!(token = r.nextPageToken)) break;
      }
      if (live) setEvents(mine);
    })().catch((e) => live && setError(problem(e)));
    return () => void (live = false);
  }, [admin, apiKey.id, changed]);
  return (
    <section aria-labelledby="trail-h">
      <h2 id="trail-h">Audit trail</h2>
      <Note text={error} />
      <div class="table-wrap">
        <table aria-label="Audit trail">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">By</th>
              <th scope="col">Changes</th>
            </tr>
          </thead>
          <tbody>
            {(events ?? []).map((e) => (
              <tr key={e.id}>
                <td>{when(e.occurredAt)}</td>
                <td>{actionLabel(e.action)}</td>
                <td>
                  <code>{e.actorKeyId}</code>
                </td>
                <td>{changeText(e)}</td>
              </tr>
            ))}
            {events?.length === 0 && (
              <tr>
                <td colSpan={4}>No events for this key in the workspace's recent audit log.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
