import { describe, expect, it } from "vitest";
import {
  findingChanges,
  findingEventId,
  type OpenFinding,
  openFindingId,
} from "../../src/domain/finding-events.js";
import type { Finding, FindingKind } from "../../src/domain/findings.js";

const since = new Date("2026-03-01T00:00:00.000Z");
const finding = (keyId: string, kind: FindingKind, at = since): Finding => ({
  keyId,
  keyName: keyId,
  workspace: "acme",
  kind,
  detail: "",
  suggestedScopes: [],
  since: at,
});
const opened = (f: Finding, announced = true): OpenFinding => ({
  id: openFindingId(f.keyId, f.kind),
  keyId: f.keyId,
  kind: f.kind,
  eventId: findingEventId(f),
  announced,
});

describe("finding.opened: which findings are new", () => {
  it("ids are deterministic: key, kind and since", () => {
    expect(findingEventId(finding("key_1", "WILDCARD"))).toBe(
      "finding|key_1|WILDCARD|2026-03-01T00:00:00.000Z",
    );
    expect(openFindingId("key_1", "WILDCARD")).toBe("key_1|WILDCARD");
  });

  it("a finding not remembered opens; one remembered does not, even with a moved since", () => {
    const wild = finding("key_1", "WILDCARD");
    const denials = finding("key_1", "UNEXPECTED_DENIALS");
    const moved = finding("key_1", "UNEXPECTED_DENIALS", new Date(since.getTime() + 60_000));
    expect(findingChanges([], [wild, denials])).toEqual({
      opened: [wild, denials],
      owed: [],
      closed: [],
    });
    expect(findingChanges([opened(wild), opened(denials)], [wild, moved])).toEqual({
      opened: [],
      owed: [],
      closed: [],
    });
  });

  it("one opened but never announced (a crash between the writes) is owed its event", () => {
    const wild = finding("key_1", "WILDCARD");
    const open = opened(wild, false);
    expect(findingChanges([open], [wild]).owed).toEqual([{ open, finding: wild }]);
  });

  it("one remembered and gone closes, so a later one of the kind opens anew", () => {
    const wild = finding("key_1", "WILDCARD");
    const noExpiry = finding("key_2", "NO_EXPIRY");
    expect(findingChanges([opened(wild), opened(noExpiry)], [noExpiry]).closed).toEqual([
      "key_1|WILDCARD",
    ]);
  });
});
