import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService, KeyStatus } from "../../gen/keyward/v1/key_admin_pb.js";
import { StoreUnavailableError } from "../../src/domain/errors.js";
import type { KeyStore } from "../../src/store/key-store.js";
import {
  bearer,
  startTestServer,
  type TestServer,
  uniqueDbName,
  waitFor,
} from "../support/harness.js";

const PAIRS = 40;

type Settled<T> = { ok: true; value: T } | { ok: false; code: Code };
const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (e: unknown) => ({
      ok: false as const,
      code: e instanceof ConnectError ? e.code : Code.Unknown,
    }),
  );

describe(`${PAIRS} concurrent RotateKey/RevokeKey pairs on one key each, through two replicas`, () => {
  const db = uniqueDbName();
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    // The race is about order, not deadlines: 80 concurrent writes on a shared machine can take
    // FerretDB past the default 2 s, which would fail the setup, not the promise under test.
    const env = { MONGODB_DB: db, MONGODB_TIMEOUT_MS: "10000" };
    a = await startTestServer({ env });
    b = await startTestServer({ env });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it("never makes a successor for a key revoked before the rotation, nor loses a revoke", {
    timeout: 120_000,
  }, async () => {
    const adminA = a.client(KeyAdminService);
    const adminB = b.client(KeyAdminService);
    const authz = a.client(AuthorizeService);
    const authzB = b.client(AuthorizeService);
    const outcomes = { rotateFirst: 0, revokeFirst: 0 };

    await Promise.all(
      Array.from({ length: PAIRS }, async (_, i) => {
        const workspace = `race${i}`;
        const { key, apiKey } = await adminA.createKey(
          { name: "contested", workspace, scopes: ["leads:read"] },
          bearer(a.rootKey),
        );
        const id = apiKey!.id;
        // Alternate which replica carries which call, so both orders of arrival occur.
        const [rotateVia, revokeVia] = i % 2 === 0 ? [adminA, adminB] : [adminB, adminA];
        const [rotate, revoke] = await Promise.all([
          settle(
            rotateVia.rotateKey({ id, gracePeriod: durationFromMs(3_600_000) }, bearer(a.rootKey)),
          ),
          settle(revokeVia.revokeKey({ id, reason: "compromised" }, bearer(a.rootKey))),
        ]);

        // A revoke always lands: it is never lost to a concurrent rotation.
        expect(
          revoke.ok,
          `pair ${i}: revoke failed with ${revoke.ok ? "" : Code[revoke.code]}`,
        ).toBe(true);
        if (!revoke.ok) return;
        const revokedRecord = revoke.value.apiKey!;
        expect(revokedRecord.status).toBe(KeyStatus.REVOKED);
        const keys = (await adminA.listKeys({ workspace, pageSize: 10 }, bearer(a.rootKey))).keys;

        if (revokedRecord.successorId === "") {
          // The revoke took effect before any rotation: the rotation must have been refused, leaving no successor.
          outcomes.revokeFirst++;
          expect(rotate.ok, `pair ${i}: a rotation succeeded after the revoke`).toBe(false);
          if (!rotate.ok)
            expect(
              Code[rotate.code],
              `pair ${i}: the rotation failed, but not as FAILED_PRECONDITION`,
            ).toBe("FailedPrecondition");
          expect(keys.map((k) => k.id)).toEqual([id]);
        } else {
          // The rotation took effect first: the revoke then ended the old key's grace at once.
          outcomes.rotateFirst++;
          expect(
            rotate.ok,
            `pair ${i}: revoke saw a successor that the rotation did not report`,
          ).toBe(true);
          if (!rotate.ok) return;
          expect(revokedRecord.successorId).toBe(rotate.value.apiKey!.id);
          expect(keys.map((k) => k.id).sort()).toEqual([id, rotate.value.apiKey!.id].sort());
        }
        // Whatever the order, the old secret is refused on both replicas. (Propagation within 1 s is
        // test/faults/clock-skew.test.ts's promise; here, under 40 pairs of load, it only has to happen.)
        for (const replica of [authz, authzB]) {
          await waitFor(
            async () =>
              !(await replica.authorize({ credential: { case: "apiKey", value: key } })).allowed,
            5000,
            `pair ${i}: old key refused`,
          );
        }
      }),
    );
    process.stderr.write(
      `[race] ${PAIRS} pairs: revoke first ${outcomes.revokeFirst}, rotate first ${outcomes.rotateFirst}\n`,
    );
    expect(outcomes.revokeFirst + outcomes.rotateFirst).toBe(PAIRS);
  });
});

/**
 * A store whose key writes start failing mid-call, as when the store deadline
 * (MONGODB_TIMEOUT_MS) cuts a rotation off: `fromWrite` is the first write of
 * the call that fails; `landed` says whether that write still reached the
 * database (a deadline answers before the server does) or not.
 */
function faultyWrites(inner: KeyStore) {
  const plan = { armed: false, fromWrite: 0, landed: false, writes: 0 };
  const writes = new Set<string>(["insertKey", "updateKey", "discardKey"]);
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || !writes.has(String(prop))) return value;
      return async (...args: unknown[]) => {
        if (!plan.armed || ++plan.writes < plan.fromWrite) return value.apply(target, args);
        if (plan.landed) await value.apply(target, args);
        throw new StoreUnavailableError(
          `the key database did not answer ${String(prop)} within 1000 ms`,
        );
      };
    },
  });
  return { store, plan };
}

describe("a rotation cut off at any write leaves no change or a consistent pair", () => {
  let server: TestServer;
  let faults: ReturnType<typeof faultyWrites>["plan"];

  beforeAll(async () => {
    server = await startTestServer({
      overrides: {
        store: (inner) => {
          const wrapped = faultyWrites(inner);
          faults = wrapped.plan;
          return wrapped.store;
        },
      },
    });
  });
  afterAll(async () => server?.stop());

  for (const fromWrite of [1, 2]) {
    for (const landed of [false, true]) {
      it(`writes fail from the ${fromWrite === 1 ? "first" : "second"} on, ${landed ? "after landing" : "before landing"}: the key can still be rotated`, async () => {
        const admin = server.client(KeyAdminService);
        const authz = server.client(AuthorizeService);
        const root = bearer(server.rootKey);
        const allowed = async (key: string) =>
          (await authz.authorize({ credential: { case: "apiKey", value: key } })).allowed;
        const { key, apiKey } = await admin.createKey(
          { name: "cut off", workspace: `cut${fromWrite}${landed}`, scopes: ["leads:read"] },
          root,
        );
        const id = apiKey!.id;

        Object.assign(faults, { armed: true, fromWrite, landed, writes: 0 });
        const rotation = await settle(
          admin.rotateKey({ id, gracePeriod: durationFromMs(3_600_000) }, root),
        );
        faults.armed = false;

        // Whatever the rotation reported, the old key still works (no change, or its grace has begun).
        expect(await allowed(key)).toBe(true);
        const old = (await admin.getKey({ id }, root)).apiKey!;
        if (old.successorId === "") {
          expect(old.status).toBe(KeyStatus.ACTIVE);
          expect(rotation.ok, "a rotation reported success without marking the old key").toBe(
            false,
          );
          // Nothing blocks the next try.
          const again = await admin.rotateKey({ id, gracePeriod: durationFromMs(0) }, root);
          expect(await allowed(again.key)).toBe(true);
        } else {
          // The old key names its successor: it must exist, so rotation carries on from there.
          const successor = await settle(admin.getKey({ id: old.successorId }, root));
          expect(
            successor.ok,
            `the old key points at ${old.successorId}, which ${successor.ok ? "" : Code[successor.code]}`,
          ).toBe(true);
          if (rotation.ok) expect(rotation.value.apiKey!.id).toBe(old.successorId);
          const next = await admin.rotateKey(
            { id: old.successorId, gracePeriod: durationFromMs(0) },
            root,
          );
          expect(await allowed(next.key)).toBe(true);
        }
      });
    }
  }
});
