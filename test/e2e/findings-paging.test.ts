import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { FindingKind } from "../../gen/keyward/v1/usage_pb.js";
import { MAX_KEY_BATCHES_PER_PAGE } from "../../src/admin/list-findings.js";
import { bearer, startTestServer, type TestServer } from "../support/harness.js";
import { keyRecord } from "../support/records.js";

/** A rare kind must not make one ListFindings call read a whole database. */
describe("ListFindings bounds the keys one call scans", () => {
  let server: TestServer;
  const KEYS = MAX_KEY_BATCHES_PER_PAGE * 100 + 150;

  beforeAll(async () => {
    server = await startTestServer({ store: "memory" });
    // Distinct creation times, so the newest-first order is total.
    const base = Date.UTC(2026, 0, 1);
    await server.app.store.insertKeys(
      Array.from({ length: KEYS }, (_, i) =>
        keyRecord({
          workspace: "big",
          expiresAt: new Date(base + 400 * 86_400_000),
          createdAt: new Date(base + i * 1000),
        }),
      ),
    );
  });
  afterAll(() => server?.stop());

  it("answers a short page with a token after the bound, and the token resumes where the scan stopped", async () => {
    const admin = server.client(KeyAdminService);
    const ask = (pageToken = "") =>
      admin.listFindings(
        { workspace: "big", kinds: [FindingKind.RETIRED_KEY_IN_USE], pageSize: 50, pageToken },
        bearer(server.rootKey),
      );
    const first = await ask();
    expect(first.findings).toEqual([]);
    expect(first.nextPageToken).not.toBe("");
    const second = await ask(first.nextPageToken);
    expect(second.findings).toEqual([]);
    expect(second.nextPageToken).toBe("");
    // A common kind still fills pages across the whole workspace, none twice.
    const seen = new Set<string>();
    let token = "";
    do {
      const page = await admin.listFindings(
        {
          workspace: "big",
          kinds: [FindingKind.NEVER_USED, FindingKind.WILDCARD],
          pageSize: 500,
          pageToken: token,
        },
        bearer(server.rootKey),
      );
      for (const f of page.findings) {
        expect(seen.has(`${f.keyId}/${f.kind}`)).toBe(false);
        seen.add(`${f.keyId}/${f.kind}`);
      }
      token = page.nextPageToken;
    } while (token !== "");
    expect(seen.size).toBe(KEYS);
  });
});
