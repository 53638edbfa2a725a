import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/paths.js";

/**
 * docs/gateways.md shows the gateway configurations the tests run (or replay):
 * each fenced block marked `file=<path>` must be a run of that file's lines,
 * at most shifted left by a constant indentation, so the documented config
 * cannot drift from the tested one.
 */
const DOC = join(ROOT, "docs/gateways.md");
const doc = readFileSync(DOC, "utf8");

interface Fence {
  info: string;
  body: string[];
  line: number;
}

function fences(markdown: string): Fence[] {
  const out: Fence[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l === "```");
    if (end === -1) throw new Error(`docs/gateways.md:${i + 1}: fence never closed`);
    out.push({ info: open[1]!.trim(), body: lines.slice(i + 1, end), line: i + 1 });
    i = end;
  }
  return out;
}

/** Where `excerpt` sits in `file` with one indentation removed from every non-blank line, or -1. */
function excerptAt(excerpt: readonly string[], file: readonly string[]): number {
  for (let start = 0; start + excerpt.length <= file.length; start++) {
    const first = file[start]!;
    if (!first.endsWith(excerpt[0]!) || excerpt[0] === "") continue;
    const indent = first.slice(0, first.length - excerpt[0]!.length);
    if (indent.trim() !== "") continue;
    if (
      excerpt.every((l, i) =>
        l === "" ? file[start + i]!.trim() === "" : file[start + i] === indent + l,
      )
    )
      return start;
  }
  return -1;
}

describe("docs/gateways.md", () => {
  const blocks = fences(doc);
  const configs = blocks.filter((b) => /^(nginx|caddyfile|yaml)\b/.test(b.info));

  it("shows the nginx, Caddy, Traefik and Envoy configurations, each from its file under test/gateways/", () => {
    const files = configs.map(
      (b) => /\bfile=(\S+)/.exec(b.info)?.[1] ?? `(block at line ${b.line} names no file)`,
    );
    expect(files).toEqual([
      "test/gateways/nginx.conf",
      "test/gateways/Caddyfile",
      "test/gateways/traefik.yml",
      "test/gateways/envoy-grpc.yaml",
      "test/gateways/envoy-http.yaml",
    ]);
  });

  it.each(configs.map((b) => [/\bfile=(\S+)/.exec(b.info)?.[1] ?? "", b] as const))(
    "the block from %s is that file's text",
    (path, block) => {
      const file = readFileSync(join(ROOT, path), "utf8").split("\n");
      expect(block.body.length).toBeGreaterThan(5);
      const at = excerptAt(block.body, file);
      expect(
        at,
        `docs/gateways.md:${block.line} is not a run of lines of ${path}`,
      ).toBeGreaterThanOrEqual(0);
    },
  );

  it("the check itself: an excerpt with one changed line is not accepted", () => {
    const nginx = readFileSync(join(ROOT, "test/gateways/nginx.conf"), "utf8").split("\n");
    const excerpt = nginx.slice(22, 40).map((l) => l.replace(/^ {2}/, ""));
    expect(excerptAt(excerpt, nginx)).toBe(22);
    const dropped = excerpt.filter(
      (l) => !l.includes("proxy_set_header X-Keyward-Scopes $keyward_scopes"),
    );
    expect(excerptAt(dropped, nginx)).toBe(-1);
  });

  it("links only to files of this repository, and they exist", () => {
    const links = [...doc.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      expect(link, "no links outside the repository").not.toMatch(/^[a-z][a-z0-9+.-]*:/i);
      expect(existsSync(resolve(dirname(DOC), link.split("#")[0]!)), link).toBe(true);
    }
    expect(doc).not.toMatch(/<https?:/);
  });
});
