import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Client } from "@connectrpc/connect";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { buildConsole } from "../../scripts/build-console.js";
import { startTestServer, type TestServer } from "./harness.js";

/** The two sizes the console must be readable at (issue 21). */
export const SIZES = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
export type Size = keyof typeof SIZES;

/**
 * Where screenshots go: .tmp/console/ by default (not committed);
 * `CONSOLE_SCREENSHOTS=docs/console` refreshes the committed ones.
 */
export const SHOTS = `${resolve(
  new URL("../..", import.meta.url).pathname,
  process.env.CONSOLE_SCREENSHOTS ?? ".tmp/console",
)}/`;

export interface ConsoleFixture {
  server: TestServer;
  browser: Browser;
  admin: Client<typeof KeyAdminService>;
  authorize: Client<typeof AuthorizeService>;
  /** `http://127.0.0.1:<HTTP_PORT>/console/` */
  base: string;
  /** Problems any page reported: console errors, uncaught exceptions. */
  problems: string[];
  open(size?: Size): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

/**
 * One keyward (memory store, usage flushed fast) and one Chromium for a test
 * file. The console is built first, every time (esbuild: well under a second),
 * so the browser always runs the code under test, never a stale dist/console.
 */
export async function startConsoleFixture(): Promise<ConsoleFixture> {
  await buildConsole();
  const server = await startTestServer({
    store: "memory",
    env: { USAGE_FLUSH_MS: "200", LAST_USED_FLUSH_MS: "200" },
  });
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
  mkdirSync(SHOTS, { recursive: true });
  const problems: string[] = [];
  const base = `${server.httpUrl}/console/`;
  const open = async (size: Size = "desktop") => {
    const context = await browser.newContext({ viewport: SIZES[size] });
    context.setDefaultTimeout(8_000);
    const page = await context.newPage();
    // Init scripts run through the debugging protocol, not as page script, so the CSP does not block this listener.
    // (Page code is passed as strings: the test's tsconfig has no DOM types.)
    await page.addInitScript(`window.__violations = [];
      document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));`);
    page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(base);
    return { context, page };
  };
  return {
    server,
    browser,
    admin: server.client(KeyAdminService),
    authorize: server.client(AuthorizeService),
    base,
    problems,
    open,
    close: async () => {
      await browser.close();
      await server.stop();
    },
  };
}

export async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel("Admin key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export const violations = (page: Page) => page.evaluate<string[]>("window.__violations");
export const storageCount = (page: Page) =>
  page.evaluate<number>("sessionStorage.length + localStorage.length");

/** The page scrolls sideways when the document is wider than the viewport. */
export const sidewaysOverflow = (page: Page) =>
  page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");

/** What has focus, as a person would name it: its accessible label or text. */
export const focused = (page: Page) =>
  page.evaluate<string>(`(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return "body";
    const label = el.labels?.[0]?.textContent ?? el.getAttribute("aria-label") ?? el.textContent;
    return el.tagName.toLowerCase() + ":" + (label ?? "").trim();
  })()`);

/** Whether focus is inside the open modal dialog. */
export const focusInDialog = (page: Page) =>
  page.evaluate<boolean>(
    "!!document.activeElement && !!document.activeElement.closest('dialog[open]')",
  );
