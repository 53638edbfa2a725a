import { toJson } from "@bufbuild/protobuf";
import { FindingSchema } from "../../gen/keyward/v1/usage_pb.js";
import {
  FINDINGS_SCAN_MS,
  findingChanges,
  findingEventId,
  type OpenFinding,
  openFindingId,
} from "../domain/finding-events.js";
import { type Finding, type FindingThresholds, findingsFor, NO_USAGE } from "../domain/findings.js";
import type { ScopeCatalog } from "../domain/scopes.js";
import type { KeyRecord } from "../domain/types.js";
import type { Cursor, KeyStore } from "../store/key-store.js";
import type { WebhookStore } from "../store/webhook-store.js";
import { findingMessage } from "../transport/services/messages.js";
import { eventBody, keyJson } from "./collect-events.js";

/** Keys per tick: a pass over many keys spreads over ticks, each bounded. */
export const FINDINGS_KEY_BATCH = 200;

export interface FindingScanDeps {
  keys: KeyStore;
  catalog: ScopeCatalog;
  thresholds: FindingThresholds;
}

/**
 * finding.opened. A pass over every key starts every FINDINGS_SCAN_MS; each tick
 * scans the next batch of it (the cursor kept beside the lease), so the work of
 * one tick is bounded however many keys there are.
 */
export async function collectFindingEvents(
  deps: FindingScanDeps,
  store: WebhookStore,
  now: Date,
): Promise<void> {
  const saved = await store.readCursor("findings");
  if (saved === null) {
    const last = await store.readMark("findings");
    if (last !== null && now.getTime() - last.getTime() < FINDINGS_SCAN_MS) return;
  }
  const after = saved === null ? null : decodeCursor(saved);
  const keys = await deps.keys.listKeys({
    workspace: null,
    status: null,
    now,
    limit: FINDINGS_KEY_BATCH,
    after,
  });
  await scanKeys(deps, store, keys, now);
  const last = keys[keys.length - 1];
  const more = keys.length === FINDINGS_KEY_BATCH && last !== undefined;
  await store.writeCursor("findings", more ? encodeCursor(last) : null);
  // Marked when the pass starts, after its first batch is done: a failed batch is retried.
  if (saved === null) await store.writeMark("findings", now);
}

async function scanKeys(
  deps: FindingScanDeps,
  store: WebhookStore,
  keys: readonly KeyRecord[],
  now: Date,
): Promise<void> {
  if (keys.length === 0) return;
  const ids = keys.map((k) => k.id);
  const usage = await deps.keys.usageSummaries(ids, now, deps.thresholds.unusedDays);
  const current = keys.flatMap((k) =>
    findingsFor(k, usage.get(k.id) ?? NO_USAGE, now, deps.thresholds, deps.catalog),
  );
  const changes = findingChanges(await store.openFindings(ids), current);
  const byId = new Map(keys.map((k) => [k.id as string, k]));
  for (const finding of changes.opened) {
    const open: OpenFinding = {
      id: openFindingId(finding.keyId, finding.kind),
      keyId: finding.keyId,
      kind: finding.kind,
      eventId: findingEventId(finding),
      announced: false,
    };
    // The insert decides which replica opens it; the event follows, under the id fixed here.
    if (await store.insertOpenFinding(open))
      await announce(store, open, finding, byId.get(finding.keyId)!, now);
  }
  for (const { open, finding } of changes.owed)
    await announce(store, open, finding, byId.get(finding.keyId)!, now);
  await store.closeFindings(changes.closed);
}

async function announce(
  store: WebhookStore,
  open: OpenFinding,
  finding: Finding,
  key: KeyRecord,
  now: Date,
): Promise<void> {
  const data = { key: keyJson(key, now), finding: toJson(FindingSchema, findingMessage(finding)) };
  await store.insertEvent({
    id: open.eventId,
    type: "finding.opened",
    workspace: key.workspace,
    occurredAt: now,
    body: eventBody("finding.opened", now, data),
  });
  await store.markFindingAnnounced(open.id);
}

function encodeCursor(key: KeyRecord): string {
  return `${key.createdAt.toISOString()}|${key.id}`;
}

function decodeCursor(saved: string): Cursor | null {
  const [at = "", id = ""] = saved.split("|");
  const createdAt = new Date(at);
  return Number.isNaN(createdAt.getTime()) || id === "" ? null : { createdAt, id };
}
