import { type AdminIdentity, decideAdmin, isRoot, ROOT_WORKSPACE } from "../domain/admin-policy.js";
import { invalid, PermissionError, throwIfViolations } from "../domain/errors.js";
import {
  FINDING_KINDS,
  type Finding,
  type FindingKind,
  type FindingThresholds,
  findingsFor,
  NO_USAGE,
} from "../domain/findings.js";
import { isKeyId } from "../domain/keys.js";
import type { ScopeCatalog } from "../domain/scopes.js";
import type { KeyId, KeyRecord } from "../domain/types.js";
import { pageSize, workspaceViolation } from "../domain/validation.js";
import type { Cursor, KeyStore } from "../store/key-store.js";
import { decodePageToken, encodePageToken } from "./page-token.js";

export interface ListFindingsDeps {
  store: KeyStore;
  catalog: ScopeCatalog;
  thresholds: FindingThresholds;
  now: () => Date;
}

export interface ListFindingsQuery {
  /** "" = the admin's workspace (every workspace for a root admin), as ListKeys. */
  workspace: string;
  /** Empty = every kind. */
  kinds: readonly FindingKind[];
  pageSize: number;
  pageToken: string;
}

/** Keys read per store round trip while filling a page. */
const KEY_BATCH = 100;
/**
 * Key batches one call may scan: a rare kind must not make one call read a
 * whole database. A page that stops here is short and carries a page token.
 */
export const MAX_KEY_BATCHES_PER_PAGE = 10;

interface Placed {
  finding: Finding;
  /** Where it sits: its key's position, and its kind within the key. */
  cursor: Cursor;
}

/**
 * ListFindings: what an admin should look at, key by key (newest first, as
 * ListKeys) and kind by kind (FindingKind order), under ListKeys' rules: a
 * workspace admin lists only its own workspace (PERMISSION_DENIED for another),
 * with keyward:read. A page token holds the last finding's key and kind.
 */
export async function listFindings(
  deps: ListFindingsDeps,
  admin: AdminIdentity,
  q: ListFindingsQuery,
): Promise<{ findings: Finding[]; nextPageToken: string }> {
  const workspace = listedWorkspace(deps, admin, q.workspace);
  const size = pageSize(q.pageSize, "page_size");
  throwIfViolations([size.violation]);
  const kinds = [...new Set(q.kinds)].sort(
    (a, b) => FINDING_KINDS.indexOf(a) - FINDING_KINDS.indexOf(b),
  );
  const query = { kind: "findings", workspace, kinds };
  const cursor = q.pageToken === "" ? null : decodePageToken(q.pageToken, query, "page_token");
  const now = deps.now();
  const { placed, scannedTo } = await collect(deps, {
    workspace,
    kinds,
    now,
    want: size.size + 1,
    cursor,
  });
  const page = placed.slice(0, size.size);
  const last = page[page.length - 1];
  const resumeAt = placed.length > size.size && last ? last.cursor : scannedTo;
  const nextPageToken = resumeAt ? encodePageToken(resumeAt, query) : "";
  return { findings: page.map((p) => p.finding), nextPageToken };
}

function listedWorkspace(
  deps: ListFindingsDeps,
  admin: AdminIdentity,
  requested: string,
): string | null {
  const workspace = requested === "" ? (isRoot(admin) ? null : admin.workspace) : requested;
  if (workspace !== null && workspace !== ROOT_WORKSPACE)
    throwIfViolations([workspaceViolation(workspace, "workspace")]);
  const verdict = decideAdmin(admin, "list", { workspace, scopes: [] }, null, deps.catalog);
  if (!verdict.allowed) throw new PermissionError(verdict.message);
  return workspace;
}

interface Scan {
  workspace: string | null;
  kinds: readonly FindingKind[];
  now: Date;
  want: number;
  cursor: Cursor | null;
}

/**
 * At least `want` findings from the cursor on; fewer when the keys run out
 * (`scannedTo` null) or the scan bound is reached (`scannedTo` = past the last
 * key read, where the next page resumes).
 */
async function collect(
  deps: ListFindingsDeps,
  scan: Scan,
): Promise<{ placed: Placed[]; scannedTo: Cursor | null }> {
  const out: Placed[] = [];
  const resume = scan.cursor === null ? null : splitCursor(scan.cursor);
  if (resume !== null) {
    // The rest of the key the last page stopped in.
    const key = await deps.store.findKeyById(resume.keyId);
    if (key !== null && (scan.workspace === null || key.workspace === scan.workspace)) {
      const after = FINDING_KINDS.indexOf(resume.kind);
      out.push(
        ...(await place(deps, scan, [key])).filter(
          (p) => FINDING_KINDS.indexOf(p.finding.kind) > after,
        ),
      );
    }
  }
  let after: Cursor | null =
    resume === null ? null : { createdAt: resume.createdAt, id: resume.keyId };
  for (let batch = 0; out.length < scan.want; batch++) {
    if (batch === MAX_KEY_BATCHES_PER_PAGE && after !== null) {
      // The last kind of the last key read: the next page starts with the key after it.
      const lastKind = FINDING_KINDS[FINDING_KINDS.length - 1];
      return {
        placed: out,
        scannedTo: { createdAt: after.createdAt, id: `${after.id}/${lastKind}` },
      };
    }
    const keys = await deps.store.listKeys({
      workspace: scan.workspace,
      status: null,
      now: scan.now,
      limit: KEY_BATCH,
      after,
    });
    out.push(...(await place(deps, scan, keys)));
    const last = keys[keys.length - 1];
    if (keys.length < KEY_BATCH || last === undefined) break;
    after = { createdAt: last.createdAt, id: last.id };
  }
  return { placed: out, scannedTo: null };
}

async function place(
  deps: ListFindingsDeps,
  scan: Scan,
  keys: readonly KeyRecord[],
): Promise<Placed[]> {
  if (keys.length === 0) return [];
  const { unusedDays } = deps.thresholds;
  const usage = await deps.store.usageSummaries(
    keys.map((k) => k.id),
    scan.now,
    unusedDays,
  );
  return keys.flatMap((key) =>
    findingsFor(
      key,
      usage.get(key.id) ?? NO_USAGE,
      scan.now,
      deps.thresholds,
      deps.catalog,
      scan.kinds,
    ).map((finding) => ({
      finding,
      cursor: { createdAt: key.createdAt, id: `${key.id}/${finding.kind}` },
    })),
  );
}

function splitCursor(cursor: Cursor): { createdAt: Date; keyId: KeyId; kind: FindingKind } {
  const [keyId = "", kind = ""] = cursor.id.split("/");
  if (!isKeyId(keyId) || !(FINDING_KINDS as readonly string[]).includes(kind))
    throw invalid("page_token", "is not a page token returned by this API");
  return { createdAt: cursor.createdAt, keyId, kind: kind as FindingKind };
}
