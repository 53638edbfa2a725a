import { useEffect, useState } from "preact/hooks";
import type { AuditEvent } from "../../../gen/keyward/v1/key_admin_pb.js";
import { Note } from "../components/dialog.js";
import { Pager } from "../components/pager.js";
import { useConsole } from "../context.js";
import { when } from "../format.js";
import { keyHref } from "../route.js";
import { actionLabel, changeText } from "./key.js";

/** ListAuditEvents for the workspace (a root admin's pick), newest first, paged. */
export function AuditPage() {
  const { admin, workspace, problem } = useConsole();
  const [tokens, setTokens] = useState<string[]>([""]);
  const [page, setPage] = useState<{ events: AuditEvent[]; next: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const token = tokens[tokens.length - 1] ?? "";
  useEffect(() => setTokens([""]), [workspace]);
  useEffect(() => {
    setError(null);
    admin.listAuditEvents({ workspace, pageSize: 50, pageToken: token }).then(
      (r) => setPage({ events: r.events, next: r.nextPageToken }),
      (e) => {
        setPage(null);
        setError(problem(e));
      },
    );
  }, [admin, workspace, token]);
  return (
    <section>
      <h1>Audit log</h1>
      <Note text={error} />
      <div class="table-wrap">
        <table aria-label="Audit log">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Workspace</th>
              <th scope="col">Action</th>
              <th scope="col">Key</th>
              <th scope="col">By</th>
              <th scope="col">Changes</th>
            </tr>
          </thead>
          <tbody>
            {(page?.events ?? []).map((e) => (
              <tr key={e.id}>
                <td>{when(e.occurredAt)}</td>
                <td>{e.workspace}</td>
                <td>{actionLabel(e.action)}</td>
                <td>
                  <a href={keyHref(e.targetKeyId)}>
                    <code>{e.targetKeyId}</code>
                  </a>
                </td>
                <td>
                  <code>{e.actorKeyId}</code>
                </td>
                <td>{changeText(e)}</td>
              </tr>
            ))}
            {page?.events.length === 0 && (
              <tr>
                <td colSpan={6}>No events.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <Pager tokens={tokens} setTokens={setTokens} next={page?.next} />
    </section>
  );
}
