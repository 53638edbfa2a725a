import type { Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import type { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import {
  type ConsoleFixture,
  SHOTS,
  SIZES,
  signIn,
  startConsoleFixture,
  storageCount,
  violations,
} from "../support/console-browser.js";
import { bearer, type TestServer, waitFor } from "../support/harness.js";

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

describe("web console in Chromium (playwright-core)", () => {
  let fx: ConsoleFixture;
  let server: TestServer;
  let admin: Client<typeof KeyAdminService>;
  let authorize: Client<typeof AuthorizeService>;
  let base: string;
  let problems: string[];
  const open: ConsoleFixture["open"] = (size) => fx.open(size);
  const keys: Record<"wsAdmin" | "reader" | "revokedAdmin" | "otherWorkspace", string> = {
    wsAdmin: "",
    reader: "",
    revokedAdmin: "",
    otherWorkspace: "",
  };

  beforeAll(async () => {
    fx = await startConsoleFixture();
    ({ server, admin, authorize, base, problems } = fx);
    const make = async (name: string, workspace: string, scopes: string[]) =>
      (await admin.createKey({ name, workspace, scopes }, bearer(server.rootKey))).key;
    keys.wsAdmin = await make("ws-a admin", "ws-a", ["keyward:all"]);
    keys.reader = await make("ws-a reader", "ws-a", ["keyward:read"]);
    keys.revokedAdmin = await make("gone admin", "ws-a", ["keyward:all"]);
    keys.otherWorkspace = await make("other-workspace-key", "ws-b", ["leads:read"]);
    const gone = await authorize.authorize({
      credential: { case: "apiKey", value: keys.revokedAdmin },
    });
    await admin.revokeKey({ id: gone.keyId }, bearer(server.rootKey));
  }, 120_000);

  afterAll(async () => {
    await fx?.close();
  });

  it("serves /console/ with the CSP and security headers, no-store on HTML, and nothing outside its files", async () => {
    for (const path of ["", "app.js", "app.css", "missing.js", "..%2fpackage.json"]) {
      const res = await fetch(base + path);
      expect(res.headers.get("content-security-policy"), path).toBe(CSP);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(res.headers.get("referrer-policy"), path).toBe("no-referrer");
    }
    const html = await fetch(base);
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(html.headers.get("cache-control")).toBe("no-store");
    expect(await html.text()).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect((await fetch(`${base}app.js`)).headers.get("content-type")).toBe(
      "text/javascript; charset=utf-8",
    );
    expect((await fetch(`${base}..%2fpackage.json`)).status).toBe(404);
    expect(
      (await fetch(`${server.httpUrl}/console`, { redirect: "manual" })).headers.get("location"),
    ).toBe("/console/");
  });

  it("refuses an invalid admin key with the reason, and a revoked one", async () => {
    const { context, page } = await open();
    await signIn(page, "kw_live_notakey");
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("not a keyward key");
    await signIn(page, keys.revokedAdmin);
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("revoked");
    expect(await storageCount(page)).toBe(0);
    await context.close();
  });

  it("creates a key through the dialog, shows the secret once, and revokes it by its typed name", async () => {
    const { context, page } = await open();
    await context.grantPermissions(["clipboard-read", "clipboard-write"], {
      origin: server.httpUrl,
    });
    await signIn(page, server.rootKey);
    await page.getByRole("table", { name: "Keys" }).waitFor();
    await page.screenshot({ path: `${SHOTS}keys-desktop.png`, fullPage: true });
    await page.getByRole("button", { name: "Create key" }).click();
    const dialog = page.getByRole("dialog", { name: "Create key" });
    await dialog.getByRole("textbox", { name: "Name", exact: true }).fill("console e2e key");
    await dialog.getByRole("textbox", { name: "Workspace", exact: true }).fill("ws-a");
    await dialog.getByRole("checkbox", { name: "campaigns:read", exact: true }).check();
    await dialog.getByRole("checkbox", { name: "leads:write", exact: true }).check();
    await dialog.getByRole("textbox", { name: "Allowed domains" }).fill("app.example.com");
    await dialog.getByRole("combobox", { name: "Expires" }).selectOption({ label: "30 days" });
    await page.screenshot({ path: `${SHOTS}create-desktop.png`, fullPage: true });
    await dialog.getByRole("button", { name: "Create", exact: true }).click();

    const copy = page.getByRole("dialog", { name: "Copy your key" });
    const secret = await copy.getByRole("textbox", { name: "Secret key" }).inputValue();
    expect(secret).toMatch(/^kw_live_/);
    expect(
      await copy.getByRole("textbox", { name: "Secret key" }).getAttribute("readonly"),
    ).not.toBeNull();
    await copy.getByRole("button", { name: "Copy" }).click();
    await expect.poll(() => copy.getByRole("status").textContent()).toMatch(/Copied|clipboard/);
    await page.screenshot({ path: `${SHOTS}copy-desktop.png` });
    const allowed = await authorize.authorize({
      credential: { case: "apiKey", value: secret },
      requiredScopes: ["campaigns:read", "leads:delete"],
      domain: "app.example.com",
    });
    expect(allowed.allowed).toBe(true);
    expect(allowed.workspace).toBe("ws-a");
    await copy.getByRole("button", { name: "I have stored it" }).click();
    await copy.waitFor({ state: "detached" });
    expect(await page.content()).not.toContain(secret);
    const stored = await page.evaluate<string>(
      "JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }) + document.cookie",
    );
    expect(stored).not.toContain(secret);

    const row = page.getByRole("row").filter({ hasText: "console e2e key" });
    await expect.poll(() => row.textContent()).toContain("campaigns:read, leads:write");
    expect(await row.textContent()).toContain("Active");
    await row.getByRole("link", { name: "console e2e key" }).click();
    await page.getByRole("heading", { name: "console e2e key", level: 1 }).waitFor();
    await page.getByRole("button", { name: "Revoke", exact: true }).click();
    const revoke = page.getByRole("dialog", { name: "Revoke key" });
    expect(await revoke.getByRole("button", { name: "Revoke key" }).isDisabled()).toBe(true);
    await revoke.getByRole("textbox", { name: "Key name" }).fill("console e2e key");
    await revoke.getByRole("button", { name: "Revoke key" }).click();
    await revoke.waitFor({ state: "detached" });
    await waitFor(
      async () =>
        !(
          await authorize.authorize({
            credential: { case: "apiKey", value: secret },
            requiredScopes: ["campaigns:read"],
            domain: "app.example.com",
          })
        ).allowed,
      5_000,
      "Authorize to refuse the revoked key",
    );
    expect(await violations(page)).toEqual([]);
    await context.close();
  });

  it("shows a workspace admin only its workspace, and a keyward:read admin no Create key", async () => {
    const { context, page } = await open("phone");
    await signIn(page, keys.wsAdmin);
    const table = page.getByRole("table", { name: "Keys" });
    await expect.poll(() => table.textContent()).toContain("ws-a reader");
    expect(await table.textContent()).not.toContain("other-workspace-key");
    expect(await page.getByRole("button", { name: "Create key" }).count()).toBe(1);
    await page.screenshot({ path: `${SHOTS}keys-phone.png`, fullPage: true });
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByRole("dialog", { name: "Create key" }).waitFor();
    expect(
      await page
        .getByRole("dialog", { name: "Create key" })
        .getByRole("textbox", { name: "Workspace", exact: true })
        .count(),
    ).toBe(0);
    await page.screenshot({ path: `${SHOTS}create-phone.png` });
    await page.keyboard.press("Escape");
    await page.getByRole("button", { name: "Sign out" }).click();
    expect(await storageCount(page)).toBe(0);

    await signIn(page, keys.reader);
    await expect
      .poll(() => page.getByRole("table", { name: "Keys" }).textContent())
      .toContain("ws-a admin");
    expect(await page.getByRole("button", { name: "Create key" }).count()).toBe(0);
    await context.close();
  });

  it("signs out with the reason when the admin key is revoked mid-session, and says when keyward is unreachable", async () => {
    const { context, page } = await open();
    const tempKey = await admin.createKey(
      { name: "short-lived admin", workspace: "ws-a", scopes: ["keyward:read"] },
      bearer(server.rootKey),
    );
    await signIn(page, tempKey.key);
    // Loaded, not just drawn: a ListKeys still in flight would meet the revocation below.
    await expect
      .poll(() => page.getByRole("table", { name: "Keys" }).textContent())
      .toContain("short-lived admin");
    await admin.revokeKey({ id: tempKey.apiKey!.id }, bearer(server.rootKey));
    await page.getByRole("link", { name: "Audit log" }).click();
    await expect
      .poll(() => page.getByRole("alert").first().textContent())
      .toMatch(/signed out.*revoked/i);
    expect(await page.getByLabel("Admin key").count()).toBe(1);
    expect(await storageCount(page)).toBe(0);

    // Signing in again returns to the page the admin was on.
    await signIn(page, keys.wsAdmin);
    await page.getByRole("table", { name: "Audit log" }).waitFor();
    await page.route("**/keyward.v1.KeyAdminService/**", (route) =>
      route.abort("connectionrefused"),
    );
    await page.getByRole("link", { name: "Findings" }).click();
    await expect
      .poll(() => page.getByRole("alert").first().textContent())
      .toContain("keyward is unreachable");
    expect(await page.content()).not.toMatch(/\{"code"|at \w+ \(/);
    await context.close();
    // The aborted requests above log "Failed to load resource" on purpose.
    // The revoked key's 401 and the aborted requests above are logged by Chromium on purpose.
    problems.splice(
      0,
      problems.length,
      ...problems.filter(
        (p) =>
          !/Failed to load resource: (net::ERR_CONNECTION_REFUSED|the server responded with a status of 401)/.test(
            p,
          ),
      ),
    );
  });

  it("does not run a script injected into the page (CSP script-src 'self')", async () => {
    const { context, page } = await open();
    await page.evaluate(`{
      const s = document.createElement("script");
      s.textContent = "window.__injected = true";
      document.body.append(s);
      const d = document.createElement("div");
      d.innerHTML = '<img src="data:," onload="window.__injected = true">';
      document.body.append(d);
    }`);
    await waitFor(
      async () => (await violations(page)).length >= 1,
      5_000,
      "a CSP violation report",
    );
    expect(await page.evaluate("window.__injected")).toBeUndefined();
    expect((await violations(page)).join()).toMatch(/script-src/);
    await context.close();
    problems.splice(
      0,
      problems.length,
      ...problems.filter((p) => !p.includes("Content Security Policy")),
    );
  });

  it("charts a key's calls, and Apply suggestion narrows its scopes", async () => {
    const created = await admin.createKey(
      { name: "usage key", workspace: "ws-a", scopes: ["campaigns:all", "leads:read"] },
      bearer(server.rootKey),
    );
    for (let i = 0; i < 3; i++)
      await authorize.authorize({
        credential: { case: "apiKey", value: created.key },
        requiredScopes: ["campaigns:read"],
      });
    await authorize.authorize({
      credential: { case: "apiKey", value: created.key },
      requiredScopes: ["leads:write"],
    });
    await waitFor(
      async () =>
        (await admin.getKeyUsage({ id: created.apiKey!.id }, bearer(server.rootKey))).allowed >= 3n,
      10_000,
      "usage flushed",
    );
    const { context, page } = await open();
    await signIn(page, server.rootKey);
    // Signed in first: the admin key must be in sessionStorage before the URL changes.
    await page.getByRole("table", { name: "Keys" }).waitFor();
    await page.goto(`${base}#/keys/${created.apiKey!.id}`);
    await page.getByRole("heading", { name: "usage key", level: 1 }).waitFor();
    await expect.poll(() => page.getByText("Allowed calls:").textContent()).toContain("3");
    await page.getByText("Usage as a table").click();
    expect(await page.getByRole("table", { name: "Usage over time" }).textContent()).toContain("3");
    expect(await page.getByRole("table", { name: "Scopes used" }).textContent()).toContain(
      "campaigns:read",
    );
    await page.screenshot({ path: `${SHOTS}key-desktop.png`, fullPage: true });
    await page.setViewportSize(SIZES.phone);
    await page.screenshot({ path: `${SHOTS}key-phone.png`, fullPage: true });
    await page.getByRole("button", { name: "Apply suggestion" }).click();
    await page
      .getByRole("dialog", { name: "Apply suggestion" })
      .getByRole("button", { name: "Apply", exact: true })
      .click();
    await waitFor(
      async () =>
        (
          await admin.getKey({ id: created.apiKey!.id }, bearer(server.rootKey))
        ).apiKey!.scopes.join() === "campaigns:read",
      5_000,
      "scopes narrowed",
    );
    expect(await violations(page)).toEqual([]);
    await page.getByRole("link", { name: "Findings" }).click();
    await page.getByRole("table", { name: "Findings" }).waitFor();
    await context.close();
  });

  it("reported no console error, uncaught exception or CSP violation on any page", () => {
    expect(problems).toEqual([]);
  });
});
