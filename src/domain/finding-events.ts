/**
 * finding.opened: which findings are new, which are still owed their event, and
 * which have closed, from what a scan finds and what is remembered as open.
 * Pure: the scan (src/webhooks/collect-findings.ts) does the reading and writing.
 */

import type { Finding, FindingKind } from "./findings.js";

/** How often a full pass over the keys starts (on the injected clock); each tick scans one batch. */
export const FINDINGS_SCAN_MS = 5 * 60_000;

/** A finding remembered as open: one per key and kind, so its event is made once. */
export interface OpenFinding {
  /** `<key id>|<kind>`: inserting it twice is a no-op, so one replica opens it. */
  id: string;
  keyId: string;
  kind: FindingKind;
  /** Fixed when it opens: a retry after a crash re-sends under the same webhook-id. */
  eventId: string;
  /** Its event was written. */
  announced: boolean;
}

export function openFindingId(keyId: string, kind: FindingKind): string {
  return `${keyId}|${kind}`;
}

/**
 * Deterministic: every replica computes the same for the same finding. A finding
 * that closes and opens again with the same `since` is the same finding, not sent twice.
 */
export function findingEventId(f: Pick<Finding, "keyId" | "kind" | "since">): string {
  return `finding|${f.keyId}|${f.kind}|${f.since.toISOString()}`;
}

export interface FindingChanges {
  /** Present now, not remembered: open them and send their event. */
  opened: Finding[];
  /** Remembered open, still present, event not yet written (a crash between the two writes). */
  owed: Array<{ open: OpenFinding; finding: Finding }>;
  /** Remembered open, absent now: forget them, so a new one of the kind opens again. */
  closed: string[];
}

/** `open` must be the records of exactly the keys whose findings are `current`. */
export function findingChanges(
  open: readonly OpenFinding[],
  current: readonly Finding[],
): FindingChanges {
  const byId = new Map(open.map((o) => [o.id, o]));
  const present = new Set<string>();
  const changes: FindingChanges = { opened: [], owed: [], closed: [] };
  for (const finding of current) {
    const id = openFindingId(finding.keyId, finding.kind);
    present.add(id);
    const known = byId.get(id);
    if (known === undefined) changes.opened.push(finding);
    else if (!known.announced) changes.owed.push({ open: known, finding });
  }
  changes.closed = open.filter((o) => !present.has(o.id)).map((o) => o.id);
  return changes;
}
