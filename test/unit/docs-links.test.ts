import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

import { ROOT } from "../support/paths.js";

const pages = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** Markdown links `[text](target)`, outside fenced code blocks. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

describe("documentation", () => {
  it("the README fits on a screen: at most 200 lines", () => {
    expect(
      readFileSync(join(ROOT, "README.md"), "utf8").trimEnd().split("\n").length,
    ).toBeLessThanOrEqual(200);
  });

  it.each(pages)("every link in %s resolves inside the repository", (page) => {
    const links = linksOf(readFileSync(join(ROOT, page), "utf8"));
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      expect(link, `${page} links out of the repository`).not.toMatch(/^[a-z]+:/i);
      const target = resolve(dirname(join(ROOT, page)), link.split("#")[0]!);
      expect(
        target.startsWith(`${ROOT}/`) || target === ROOT,
        `${page}: ${link} leaves the repository`,
      ).toBe(true);
      expect(existsSync(target), `${page}: ${link} does not exist`).toBe(true);
    }
  });

  it("every docs page opens with one nav line that links every page", () => {
    const docs = pages.filter((p) => p.startsWith("docs/"));
    const navs = docs.map((p) => readFileSync(join(ROOT, p), "utf8").split("\n", 1)[0]!);
    expect(new Set(navs).size, "the docs pages' first lines differ").toBe(1);
    const linked = linksOf(navs[0]!).sort();
    const expected = ["../README.md", ...docs.map((p) => p.slice("docs/".length))].sort();
    expect(linked).toEqual(expected);
  });
});
