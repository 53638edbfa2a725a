import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService, KeyStatus } from "../../gen/keyward/v1/key_admin_pb.js";
import { bearer, startTestServer, uniqueDbName, waitFor, type TestServer } from "../support/harness.js";

const PAIRS = 40;

type Settled<T> = { ok: true; value: T } | { ok: false; code: Code };
const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (e: unknown) => ({ ok: false as const, code: e instanceof ConnectError ? e.code : Code.Unknown }),
  );

describe(`${PAIRS} concurrent RotateKey/RevokeKey pairs on one key each, through two replicas`, () => {
  const db = uniqueDbName();
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    a = await startTestServer({ env: { MONGODB_DB: db } });
    b = await startTestServer({ env: { MONGODB_DB: db } });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it("never makes a successor for a key revoked before the rotation, nor loses a revoke", { timeout: 120_000 }, async () => {
    const adminA = a.client(KeyAdminService);
    const adminB = b.client(KeyAdminService);
    const authz = a.client(AuthorizeService);
    const authzB = b.client(AuthorizeService);
    const outcomes = { rotateFirst: 0, revokeFirst: 0 };

    await Promise.all(
      Array.from({ length: PAIRS }, async (_, i) => {
        const workspace = `race${i}`;
        const { key, apiKey } = await adminA.createKey({ name: "contested", workspace, scopes: ["leads:read"] }, bearer(a.rootKey));
        const id = apiKey!.id;
        // Alternate which replica carries which call, so both orders of arrival occur.
        const [rotateVia, revokeVia] = i % 2 === 0 ? [adminA, adminB] : [adminB, adminA];
        const [rotate, revoke] = await Promise.all([
          settle(rotateVia.rotateKey({ id, gracePeriod: durationFromMs(3_600_000) }, bearer(a.rootKey))),
          settle(revokeVia.revokeKey({ id, reason: "compromised" }, bearer(a.rootKey))),
        ]);

        // A revoke always lands: it is never lost to a concurrent rotation.
        expect(revoke.ok, `pair ${i}: revoke failed with ${revoke.ok ? "" : Code[revoke.code]}`).toBe(true);
        if (!revoke.ok) return;
        const revokedRecord = revoke.value.apiKey!;
        expect(revokedRecord.status).toBe(KeyStatus.REVOKED);
        const keys = (await adminA.listKeys({ workspace, pageSize: 10 }, bearer(a.rootKey))).keys;

        if (revokedRecord.successorId === "") {
          // The revoke took effect before any rotation: the rotation must have been refused, leaving no successor.
          outcomes.revokeFirst++;
          expect(rotate.ok, `pair ${i}: a rotation succeeded after the revoke`).toBe(false);
          if (!rotate.ok) expect(Code[rotate.code], `pair ${i}: the rotation failed, but not as FAILED_PRECONDITION`).toBe("FailedPrecondition");
          expect(keys.map((k) => k.id)).toEqual([id]);
        } else {
          // The rotation took effect first: the revoke then ended the old key's grace at once.
          outcomes.rotateFirst++;
          expect(rotate.ok, `pair ${i}: revoke saw a successor that the rotation did not report`).toBe(true);
          if (!rotate.ok) return;
          expect(revokedRecord.successorId).toBe(rotate.value.apiKey!.id);
          expect(keys.map((k) => k.id).sort()).toEqual([id, rotate.value.apiKey!.id].sort());
        }
        // Whatever the order, the old secret is refused on both replicas. (Propagation within 1 s is
        // test/faults/clock-skew.test.ts's promise; here, under 40 pairs of load, it only has to happen.)
        for (const replica of [authz, authzB]) {
          await waitFor(async () => !(await replica.authorize({ credential: { case: "apiKey", value: key } })).allowed, 5000, `pair ${i}: old key refused`);
        }
      }),
    );
    process.stderr.write(`[race] ${PAIRS} pairs: revoke first ${outcomes.revokeFirst}, rotate first ${outcomes.rotateFirst}\n`);
    expect(outcomes.revokeFirst + outcomes.rotateFirst).toBe(PAIRS);
  });
});
