import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ConsoleFixture,
  focused,
  focusInDialog,
  SHOTS,
  SIZES,
  sidewaysOverflow,
  signIn,
  startConsoleFixture,
  violations,
} from "../support/console-browser.js";
import { bearer, waitFor } from "../support/harness.js";

/** Managing keys in the console: edit, rotate, findings, audit, keyboard-only use, both sizes. */
describe("web console: managing keys in Chromium", () => {
  let fx: ConsoleFixture;
  let root: ReturnType<typeof bearer>;
  beforeAll(async () => {
    fx = await startConsoleFixture();
    root = bearer(fx.server.rootKey);
  }, 120_000);
  afterAll(async () => {
    await fx?.close();
  });

  const createKey = async (name: string, workspace: string, scopes: string[], domains = []) => {
    const res = await fx.admin.createKey(
      { name, workspace, scopes, allowedDomains: domains },
      root,
    );
    return { secret: res.key, id: res.apiKey!.id };
  };
  const allowed = async (secret: string, scope: string, domain = "") =>
    (
      await fx.authorize.authorize({
        credential: { case: "apiKey", value: secret },
        requiredScopes: [scope],
        domain,
      })
    ).allowed;
  const openKey = async (id: string, name: string, size: "desktop" | "phone" = "desktop") => {
    const { context, page } = await fx.open(size);
    await signIn(page, fx.server.rootKey);
    await page.getByRole("table", { name: "Keys" }).waitFor();
    await page.goto(`${fx.base}#/keys/${id}`);
    await page.getByRole("heading", { name, level: 1 }).waitFor();
    return { context, page };
  };
  const text = async (page: Page, role: "region" | "table", name: string) =>
    (await page.getByRole(role, { name }).textContent()) ?? "";

  it("edits a key's scopes, domains and expiry: the settings, the Keys table, the audit trail and Authorize follow", async () => {
    const key = await createKey("edit me", "ws-e", ["campaigns:read"]);
    expect(await allowed(key.secret, "campaigns:read")).toBe(true);
    const { context, page } = await openKey(key.id, "edit me");
    await page.getByRole("button", { name: "Edit", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Edit key" });
    await dialog.getByRole("checkbox", { name: "campaigns:read", exact: true }).uncheck();
    await dialog.getByRole("checkbox", { name: "leads:read", exact: true }).check();
    await dialog.getByRole("textbox", { name: "Allowed domains" }).fill("app.example.com");
    await dialog.getByRole("checkbox", { name: "Change the expiry" }).check();
    await dialog.getByRole("combobox", { name: "Expires" }).selectOption({ label: "A date…" });
    await dialog.getByLabel("Expiry date").fill("2031-05-17");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "detached" });

    const settings = await text(page, "region", "Settings");
    expect(settings).toContain("leads:read");
    expect(settings).not.toContain("campaigns:read");
    expect(settings).toContain("app.example.com");
    expect(settings).toContain("2031-05-17 23:59 UTC");
    await expect
      .poll(() => text(page, "table", "Audit trail"))
      .toMatch(/updated.*scopes: campaigns:read → leads:read/);
    expect(await text(page, "table", "Audit trail")).toContain("created");

    await page.getByRole("link", { name: "← Keys" }).click();
    const row = page.getByRole("row").filter({ hasText: "edit me" });
    await expect.poll(() => row.textContent()).toContain("leads:read");
    expect(await row.textContent()).toContain("2031-05-17");
    expect(await allowed(key.secret, "leads:read", "app.example.com")).toBe(true);
    expect(await allowed(key.secret, "campaigns:read", "app.example.com")).toBe(false);
    expect(await allowed(key.secret, "leads:read", "elsewhere.example.net")).toBe(false);
    expect(await violations(page)).toEqual([]);
    await context.close();
  });

  it("rotates with a grace period: the new secret shown once, the old key retiring and still accepted", async () => {
    const old = await createKey("rotate me", "ws-r", ["leads:read"]);
    const { context, page } = await openKey(old.id, "rotate me", "phone");
    await page.getByRole("button", { name: "Rotate", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Rotate key" });
    await dialog.getByRole("combobox", { name: "Grace period" }).selectOption({ label: "1 hour" });
    await dialog.getByRole("button", { name: "Rotate key" }).click();
    const copy = page.getByRole("dialog", { name: "Copy your key" });
    const secret = await copy.getByRole("textbox", { name: "Secret key" }).inputValue();
    expect(secret).toMatch(/^kw_live_/);
    expect(secret).not.toBe(old.secret);
    await page.screenshot({ path: `${SHOTS}copy-phone.png` });
    expect(await allowed(secret, "leads:read")).toBe(true);
    expect(await allowed(old.secret, "leads:read")).toBe(true);
    await copy.getByRole("button", { name: "I have stored it" }).click();
    await copy.waitFor({ state: "detached" });
    expect(await page.content()).not.toContain(secret);
    // "I have stored it" leads to the new key's page.
    await page.waitForURL((u) => !u.hash.includes(old.id));
    const successor = decodeURIComponent(new URL(page.url()).hash.split("/").pop()!);
    await page.getByRole("heading", { name: "rotate me", level: 1 }).waitFor();
    await expect.poll(() => text(page, "region", "Settings")).toContain("Active");

    await page.getByRole("link", { name: "← Keys" }).click();
    const rows = page.getByRole("row").filter({ hasText: "rotate me" });
    await expect.poll(() => rows.count()).toBe(2);
    const statuses = await rows.locator(".status").allTextContents();
    expect(statuses.sort()).toEqual(["Active", "Retiring"]);
    await rows.filter({ hasText: "Retiring" }).getByRole("link", { name: "rotate me" }).click();
    await page.waitForURL((u) => u.hash.includes(old.id));
    const settings = await text(page, "region", "Settings");
    expect(settings).toMatch(/StatusRetiring/);
    expect(settings).toContain("Stops working");
    expect(await page.getByRole("link", { name: successor }).count()).toBe(1); // "Rotated to"
    expect(await page.getByRole("button", { name: "Rotate", exact: true }).count()).toBe(0);
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    expect(await allowed(old.secret, "leads:read")).toBe(true);
    await context.close();
  });

  it("shows a key's domains seen and usage at 1280×800 and 390×844 without sideways scrolling", async () => {
    const key = await createKey("domains key", "ws-d", ["campaigns:read", "leads:read"]);
    for (const domain of ["app.example.com", "app.example.com", "admin.example.org"])
      await allowed(key.secret, "campaigns:read", domain);
    await waitFor(
      async () => (await fx.admin.getKeyUsage({ id: key.id }, root)).domains.length === 2,
      10_000,
      "usage with two domains flushed",
    );
    const { context, page } = await openKey(key.id, "domains key");
    const domains = page.getByRole("table", { name: "Domains seen" });
    await expect.poll(() => domains.textContent()).toMatch(/app\.example\.com\s*2/);
    expect(await domains.textContent()).toMatch(/admin\.example\.org\s*1/);
    for (const size of ["desktop", "phone"] as const) {
      await page.setViewportSize(SIZES[size]);
      expect(await sidewaysOverflow(page), `key page, ${size}`).toBeLessThanOrEqual(0);
      await page.getByRole("link", { name: "← Keys" }).click();
      await page.getByRole("row").filter({ hasText: "domains key" }).waitFor();
      expect(await sidewaysOverflow(page), `Keys page, ${size}`).toBeLessThanOrEqual(0);
      await page.getByRole("link", { name: "domains key" }).click();
      await page.getByRole("table", { name: "Domains seen" }).waitFor();
    }
    await context.close();
  });

  it("lists a wildcard key without expiry on the Findings page, linked to the key", async () => {
    await createKey("wild one", "ws-f", ["*"]);
    await createKey("tidy one", "ws-g", ["leads:read"]);
    const { context, page } = await fx.open();
    await signIn(page, fx.server.rootKey);
    await page.getByLabel("Current workspace").fill("ws-f");
    await page.getByRole("button", { name: "Show" }).click();
    await page.getByRole("link", { name: "Findings" }).click();
    const table = page.getByRole("table", { name: "Findings" });
    const rows = table.getByRole("row").filter({ hasText: "wild one" });
    await expect
      .poll(() => rows.allTextContents())
      .toEqual(
        expect.arrayContaining([
          expect.stringMatching(/Wildcard scope/),
          expect.stringMatching(/No expiry/),
        ]),
      );
    expect(await table.textContent()).not.toContain("tidy one");
    await page.getByRole("combobox", { name: "Kind" }).selectOption({ label: "Wildcard scope" });
    await expect.poll(() => rows.allTextContents()).toHaveLength(1);
    expect(await rows.textContent()).toMatch(/ws-f.*Wildcard scope/);
    await rows.getByRole("link", { name: "wild one" }).click();
    await page.getByRole("heading", { name: "wild one", level: 1 }).waitFor();
    await context.close();
  });

  it("lists a workspace's changes on the Audit log page, newest first, linked to the key", async () => {
    const key = await createKey("audited", "ws-audit", ["leads:read"]);
    await fx.admin.updateKey(
      { apiKey: { id: key.id, scopes: ["leads:write"] }, updateMask: { paths: ["scopes"] } },
      root,
    );
    await fx.admin.revokeKey({ id: key.id, reason: "audit test" }, root);
    const { context, page } = await fx.open();
    await signIn(page, fx.server.rootKey);
    await page.getByLabel("Current workspace").fill("ws-audit");
    await page.getByRole("button", { name: "Show" }).click();
    await page.getByRole("link", { name: "Audit log" }).click();
    const body = page.getByRole("table", { name: "Audit log" }).locator("tbody tr");
    await expect.poll(() => body.count()).toBe(3);
    const rows = await body.allTextContents();
    expect(rows[0]).toMatch(/ws-audit.*revoked/);
    expect(rows[1]).toMatch(/updated.*scopes: leads:read → leads:write/);
    expect(rows[2]).toMatch(/created/);
    await body.first().getByRole("link", { name: key.id }).click();
    await page.getByRole("heading", { name: "audited", level: 1 }).waitFor();
    await context.close();
  });

  it("signs in, creates a key and dismisses its secret with the keyboard alone; dialogs trap focus", async () => {
    const { context, page } = await fx.open();
    const key = page.keyboard;
    await key.press("Tab");
    expect(await focused(page)).toBe("input:Admin key");
    await key.type(fx.server.rootKey);
    await key.press("Enter");
    await page.getByRole("table", { name: "Keys" }).waitFor();
    const order: string[] = [];
    for (let i = 0; i < 7; i++) {
      await key.press("Tab");
      order.push(await focused(page));
    }
    expect(order).toEqual([
      "a:Keys",
      "a:Findings",
      "a:Audit log",
      "input:Current workspace",
      "button:Show",
      "button:Sign out",
      "button:Create key",
    ]);
    // Enter opens the dialog with focus in its first field; Escape closes it and gives focus back.
    await key.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Create key" });
    await dialog.waitFor();
    await expect.poll(() => focused(page)).toBe("input:Name");
    await key.press("Escape");
    await page.locator("dialog").waitFor({ state: "detached" });
    expect(await focused(page)).toBe("button:Create key");
    await key.press("Enter");
    await expect.poll(() => focused(page)).toBe("input:Name");
    await key.type("keyboard key");
    await key.press("Tab");
    expect(await focused(page)).toBe("input:Workspace");
    await key.type("ws-k");
    await tabTo(page, "input:leads:read");
    await key.press("Space");
    expect(
      await dialog.getByRole("checkbox", { name: "leads:read", exact: true }).isChecked(),
    ).toBe(true);
    await tabTo(page, "input:Allowed domains");
    await key.type("kb.example.com");
    await key.press("Tab");
    expect(await focused(page)).toBe("select:Expires");
    await key.press("ArrowDown");
    expect(await dialog.getByRole("combobox", { name: "Expires" }).inputValue()).toBe("30d");
    // Round the whole dialog twice: focus never leaves it.
    const stops = await dialog.locator("input, select, button").count();
    for (let i = 0; i < stops * 2; i++) {
      await key.press("Tab");
      expect(await focusInDialog(page), `Tab ${i + 1} stays in the dialog`).toBe(true);
    }
    await tabTo(page, "button:Create");
    await key.press("Enter");

    const copy = page.getByRole("dialog", { name: "Copy your key" });
    await copy.waitFor();
    await expect.poll(() => focused(page)).toBe("input:Secret key");
    const secret = await copy.getByRole("textbox", { name: "Secret key" }).inputValue();
    // Escape does not throw the secret away: only "I have stored it" does.
    await key.press("Escape");
    expect(await copy.isVisible()).toBe(true);
    await key.press("Tab");
    expect(await focused(page)).toBe("button:Copy");
    await key.press("Tab");
    expect(await focused(page)).toBe("button:I have stored it");
    await key.press("Tab");
    expect(await focusInDialog(page)).toBe(true);
    await key.press("Shift+Tab");
    expect(await focused(page)).toBe("button:I have stored it");
    await key.press("Space");
    await page.locator("dialog").waitFor({ state: "detached" });
    expect(await focused(page)).toBe("button:Create key");
    expect(await page.content()).not.toContain(secret);
    expect(await allowed(secret, "leads:read", "kb.example.com")).toBe(true);
    await context.close();
  });

  /** Tab forward until the named element has focus (at most 60 presses), as a keyboard user does. */
  async function tabTo(page: Page, target: string): Promise<void> {
    for (let i = 0; i < 60; i++) {
      if ((await focused(page)) === target) return;
      await page.keyboard.press("Tab");
    }
    throw new Error(`Tab never reached ${target}; focus is on ${await focused(page)}`);
  }

  it("reported no console error or uncaught exception on any page", () => {
    expect(fx.problems).toEqual([]);
  });
});
