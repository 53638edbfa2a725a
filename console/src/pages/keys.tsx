import { useEffect, useState } from "preact/hooks";
import { type ApiKey, KeyStatus } from "../../../gen/keyward/v1/key_admin_pb.js";
import { CopyKeyDialog } from "../components/copy-key.js";
import { Note } from "../components/dialog.js";
import { useConsole } from "../context.js";
import { statusLabel, when } from "../format.js";
import { keyHref } from "../route.js";
import { CreateKeyDialog } from "./create-key.js";

const PAGE_SIZE = 50;
const STATUSES = [
  { value: KeyStatus.UNSPECIFIED, label: "All" },
  { value: KeyStatus.ACTIVE, label: "Active" },
  { value: KeyStatus.REVOKED, label: "Revoked" },
  { value: KeyStatus.EXPIRED, label: "Expired" },
];

/** ListKeys pages: a stack of the tokens that led to each page, so "Previous page" works. */
function useKeyPages(status: KeyStatus, reload: number) {
  const { admin, workspace, problem } = useConsole();
  const [tokens, setTokens] = useState<string[]>([""]);
  const [page, setPage] = useState<{ keys: ApiKey[]; next: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const token = tokens[tokens.length - 1] ?? "";
  useEffect(() => setTokens([""]), [workspace, status]);
  useEffect(() => {
    let live = true;
    setError(null);
    admin.listKeys({ workspace, status, pageSize: PAGE_SIZE, pageToken: token }).then(
      (r) => live && setPage({ keys: r.keys, next: r.nextPageToken }),
      (e) => {
        if (!live) return;
        setPage(null);
        setError(problem(e));
      },
    );
    return () => void (live = false);
  }, [admin, workspace, status, token, reload]);
  return {
    page,
    error,
    hasPrevious: tokens.length > 1,
    next: () => page?.next && setTokens([...tokens, page.next]),
    previous: () => setTokens(tokens.slice(0, -1)),
  };
}

export function KeysPage() {
  const { identity, workspace } = useConsole();
  const [status, setStatus] = useState(KeyStatus.UNSPECIFIED);
  const [search, setSearch] = useState("");
  const [reload, setReload] = useState(0);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const pages = useKeyPages(status, reload);
  const shown = (pages.page?.keys ?? []).filter((k) =>
    k.name.toLowerCase().includes(search.trim().toLowerCase()),
  );
  return (
    <section>
      <div class="title-row">
        <h1>Keys</h1>
        {identity.canWrite && (
          <button type="button" onClick={() => setCreating(true)}>
            Create key
          </button>
        )}
      </div>
      <p class="hint">
        {identity.isRoot
          ? workspace
            ? `Workspace ${workspace}`
            : "All workspaces"
          : `Workspace ${workspace}`}
      </p>
      <div class="filters">
        <label for="status-filter">Status</label>
        <select
          id="status-filter"
          value={status}
          onChange={(e) => setStatus(Number(e.currentTarget.value) as KeyStatus)}
        >
          {STATUSES.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
        <label for="name-search">Search by name</label>
        <input
          id="name-search"
          type="search"
          value={search}
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
      </div>
      <Note text={pages.error} />
      <KeysTable
        keys={shown}
        loading={pages.page === null && !pages.error}
        showWorkspace={identity.isRoot && !workspace}
      />
      <div class="pager">
        <button
          type="button"
          class="secondary"
          disabled={!pages.hasPrevious}
          onClick={pages.previous}
        >
          Previous page
        </button>
        <button type="button" class="secondary" disabled={!pages.page?.next} onClick={pages.next}>
          Next page
        </button>
      </div>
      {creating && (
        <CreateKeyDialog
          onClose={() => setCreating(false)}
          onCreated={(s) => {
            setCreating(false);
            setSecret(s);
          }}
        />
      )}
      {secret !== null && (
        <CopyKeyDialog
          secret={secret}
          onDone={() => {
            setSecret(null);
            setReload((n) => n + 1);
          }}
        />
      )}
    </section>
  );
}

function KeysTable(props: { keys: ApiKey[]; loading: boolean; showWorkspace: boolean }) {
  return (
    <div class="table-wrap">
      <table aria-label="Keys">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Scopes</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
          </tr>
        </thead>
        <tbody>
          {props.keys.map((k) => (
            <tr key={k.id}>
              <td>
                <a href={keyHref(k.id)}>{k.name}</a>
                {props.showWorkspace && <span class="sub">{k.workspace}</span>}
              </td>
              <td>
                <code>{k.keyPreview}</code>
              </td>
              <td>{k.scopes.join(", ")}</td>
              <td>
                <span class={`status s-${statusLabel(k).toLowerCase()}`}>{statusLabel(k)}</span>
              </td>
              <td>{when(k.createdAt)}</td>
              <td>{when(k.lastUsedAt, "never")}</td>
              <td>{when(k.expiresAt, "never")}</td>
            </tr>
          ))}
          {props.keys.length === 0 && (
            <tr>
              <td colSpan={7}>{props.loading ? "Loading…" : "No keys here."}</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
