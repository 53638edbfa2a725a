import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { bearer, startTestServer, type TestServer } from "../support/harness.js";

async function code(p: Promise<unknown>): Promise<Code> {
  const err = await p.then(
    () => expect.unreachable("expected the call to fail"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  return (err as ConnectError).code;
}

describe("authority: no admin climbs above its own scopes or workspace", () => {
  let server: TestServer;
  let admin: Client<typeof KeyAdminService>;
  let authz: Client<typeof AuthorizeService>;
  const root = () => bearer(server.rootKey);
  let rootId: string;
  let acmeAdmin: { key: string; id: string };
  let acmeWriter: { key: string; id: string };
  let productStar: { key: string; id: string };

  const create = async (workspace: string, scopes: string[], as = root()) => {
    const r = await admin.createKey(
      { name: `${workspace} ${scopes.join(" ")}`, workspace, scopes },
      as,
    );
    return { key: r.key, id: r.apiKey!.id };
  };

  beforeAll(async () => {
    server = await startTestServer();
    admin = server.client(KeyAdminService);
    authz = server.client(AuthorizeService);
    rootId = (await admin.listKeys({ workspace: "*" }, root())).keys[0]!.id;
    acmeAdmin = await create("acme", ["keyward:all"]);
    acmeWriter = await create("acme", ["keyward:write"]);
    productStar = await create("acme", ["*"]);
  });
  afterAll(async () => server?.stop());

  it("the escalation of issue 10 is refused: a keyward:write admin cannot rotate, revoke or update a key holding more authority", async () => {
    const as = bearer(acmeWriter.key);
    expect(
      await code(admin.rotateKey({ id: acmeAdmin.id, gracePeriod: durationFromMs(0) }, as)),
    ).toBe(Code.PermissionDenied);
    expect(await code(admin.revokeKey({ id: acmeAdmin.id }, as))).toBe(Code.PermissionDenied);
    expect(
      await code(
        admin.updateKey(
          { apiKey: { id: acmeAdmin.id, name: "mine" }, updateMask: { paths: ["name"] } },
          as,
        ),
      ),
    ).toBe(Code.PermissionDenied);
    // The root key is outside a workspace admin's reach: NOT_FOUND, exactly as a missing key.
    expect(await code(admin.rotateKey({ id: rootId }, as))).toBe(Code.NotFound);
    expect(await code(admin.revokeKey({ id: rootId }, as))).toBe(Code.NotFound);
    expect(
      await code(
        admin.updateKey({ apiKey: { id: rootId, name: "x" }, updateMask: { paths: ["name"] } }, as),
      ),
    ).toBe(Code.NotFound);
    // Even a keyward:all workspace admin cannot reach the root key or make one.
    expect(await code(admin.rotateKey({ id: rootId }, bearer(acmeAdmin.key)))).toBe(Code.NotFound);
    expect(
      await code(
        admin.createKey(
          { name: "root?", workspace: "*", scopes: ["keyward:read"] },
          bearer(acmeAdmin.key),
        ),
      ),
    ).toBe(Code.PermissionDenied);
    expect(
      await code(
        admin.createKey(
          { name: "other", workspace: "globex", scopes: ["*"] },
          bearer(acmeAdmin.key),
        ),
      ),
    ).toBe(Code.PermissionDenied);
    // Nothing changed.
    const after = (await admin.getKey({ id: acmeAdmin.id }, root())).apiKey!;
    expect(after).toMatchObject({
      name: "acme keyward:all",
      scopes: ["keyward:all"],
      successorId: "",
    });
    expect(
      (await authz.authorize({ credential: { case: "apiKey", value: acmeAdmin.key } })).allowed,
    ).toBe(true);
  });

  it("a product key holding * is no admin: PERMISSION_DENIED on every KeyAdmin method", async () => {
    const as = bearer(productStar.key);
    expect(await code(admin.listKeys({}, as))).toBe(Code.PermissionDenied);
    expect(await code(admin.listScopes({}, as))).toBe(Code.PermissionDenied);
    expect(await code(admin.getKey({ id: productStar.id }, as))).toBe(Code.PermissionDenied);
    expect(await code(admin.createKey({ name: "x", scopes: ["leads:read"] }, as))).toBe(
      Code.PermissionDenied,
    );
    expect(await code(admin.revokeKey({ id: acmeWriter.id }, as))).toBe(Code.PermissionDenied);
    // ...while it still allows every product scope through Authorize.
    expect(
      (
        await authz.authorize({
          credential: { case: "apiKey", value: productStar.key },
          requiredScopes: ["campaigns:write", "invoices:read"],
        })
      ).allowed,
    ).toBe(true);
    const asAdmin = await authz.authorize({
      credential: { case: "apiKey", value: productStar.key },
      requiredScopes: ["keyward:read"],
    });
    expect(asAdmin.allowed).toBe(false);
    expect(asAdmin.missingScopes).toEqual(["keyward:read"]);
  });

  it("keyward:write cannot grant keyward:read or keyward:all, on create or on update; it can grant product scopes, * included", async () => {
    const as = bearer(acmeWriter.key);
    for (const scopes of [["keyward:read"], ["keyward:all"], ["leads:read", "keyward:read"]]) {
      expect(await code(admin.createKey({ name: "amplify", scopes }, as)), scopes.join()).toBe(
        Code.PermissionDenied,
      );
    }
    const product = await create("acme", ["leads:read"], as);
    expect(
      await code(
        admin.updateKey(
          {
            apiKey: { id: product.id, scopes: ["keyward:all"] },
            updateMask: { paths: ["scopes"] },
          },
          as,
        ),
      ),
    ).toBe(Code.PermissionDenied);
    expect(
      await code(
        admin.updateKey(
          {
            apiKey: { id: product.id, scopes: ["keyward:read", "keyward:write"] },
            updateMask: { paths: ["scopes"] },
          },
          as,
        ),
      ),
    ).toBe(Code.PermissionDenied);
    const star = await create("acme", ["*"], as);
    expect(
      (
        await admin.updateKey(
          { apiKey: { id: star.id, scopes: ["keyward:write"] }, updateMask: { paths: ["scopes"] } },
          as,
        )
      ).apiKey?.scopes,
    ).toEqual(["keyward:write"]);
    // It cannot list (that needs keyward:read), so it cannot even see what it made.
    expect(await code(admin.listKeys({}, as))).toBe(Code.PermissionDenied);
  });

  it("the root admin can do all of it, in every workspace", async () => {
    const globexAdmin = await create("globex", ["keyward:all"]);
    const anotherRoot = await create("*", ["keyward:read"]);
    expect(
      (await admin.listKeys({ workspace: "globex" }, bearer(anotherRoot.key))).keys.map(
        (k) => k.id,
      ),
    ).toContain(globexAdmin.id);
    const rotated = await admin.rotateKey(
      { id: acmeAdmin.id, gracePeriod: durationFromMs(0) },
      root(),
    );
    expect(rotated.apiKey?.scopes).toEqual(["keyward:all"]);
    expect(
      (
        await admin.updateKey(
          {
            apiKey: { id: acmeWriter.id, scopes: ["keyward:all"] },
            updateMask: { paths: ["scopes"] },
          },
          root(),
        )
      ).apiKey?.scopes,
    ).toEqual(["keyward:all"]);
    expect((await admin.revokeKey({ id: globexAdmin.id }, root())).apiKey?.revokedAt).toBeDefined();
    // A root admin has no default workspace: it must say where a key goes.
    expect(await code(admin.createKey({ name: "where?", scopes: ["leads:read"] }, root()))).toBe(
      Code.InvalidArgument,
    );
  });
});
