import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/paths.js";

/**
 * src/domain holds the rules as pure functions: no I/O, no clock, no state.
 * The only outside imports allowed are stateless computations.
 */
const ALLOWED: Record<string, readonly string[]> = {
  // One-shot digests: the same input always gives the same output.
  "node:crypto": ["createHmac", "hash"],
  // IDN to punycode, a pure function.
  "node:url": ["domainToASCII"],
};

const DIR = join(ROOT, "src/domain");
const files = readdirSync(DIR).filter((f) => f.endsWith(".ts"));

describe("src/domain is pure", () => {
  it.each(files)("%s imports only sibling rules and stateless functions", (file) => {
    const source = readFileSync(join(DIR, file), "utf8");
    for (const m of source.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s+from\s+"([^"]+)"/g)) {
      const [, typeOnly, names, from] = m as unknown as [
        string,
        string | undefined,
        string,
        string,
      ];
      if (from.startsWith("./") || typeOnly) continue;
      const imported = names
        .split(",")
        .map((n) => n.trim().replace(/^type\s+/, ""))
        .filter(Boolean);
      expect(ALLOWED[from], `${file} imports from ${from}`).toBeDefined();
      for (const name of imported)
        expect(ALLOWED[from], `${file} imports ${name} from ${from}`).toContain(name);
    }
    expect(source, `${file} has a default or namespace import`).not.toMatch(
      /import\s+(\*\s+as\s+\w+|\w+)\s+from/,
    );
    expect(source, `${file} reads the clock`).not.toMatch(
      /Date\.now\(|new Date\(\)|performance\.now\(/,
    );
  });
});
