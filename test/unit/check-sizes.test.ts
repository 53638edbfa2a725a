import { describe, expect, it } from "vitest";
import {
  checkSizes,
  checkSource,
  formatViolation,
  MAX_FILE_LINES,
  MAX_FUNCTION_LINES,
} from "../../scripts/check-sizes.js";
import { ROOT } from "../support/paths.js";

/** A body of `n` statement lines, so the unit spans n + 2 lines with its braces. */
const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join("\n");

const fn = (lines: number, above = "") =>
  `${above}export function big(): void {\n${body(lines - 2)}\n}\n`;

describe("scripts/check-sizes.ts", () => {
  it("src/ has no function over 60 lines nor file over 300 without a `// size:` reason", () => {
    expect(checkSizes(ROOT, ["src"]).map(formatViolation)).toEqual([]);
  });

  it.each([
    ["a function of exactly the limit", fn(MAX_FUNCTION_LINES), []],
    ["a function one line over", fn(MAX_FUNCTION_LINES + 1), ["function big:61"]],
    [
      "one with a reason directly above",
      fn(61, "// size: a table of cases, read top to bottom\n"),
      [],
    ],
    [
      "a reason above its doc comment",
      fn(61, "// size: a table of cases\n/**\n * Doc.\n */\n"),
      [],
    ],
    ["an empty reason", fn(61, "// size:\n"), ["function big:61"]],
    ["a reason separated by a blank line", fn(61, "// size: why\n\n"), ["function big:61"]],
    ["a comment that is no reason", fn(61, "// big on purpose\n"), ["function big:61"]],
    [
      "an arrow function in a const",
      `const run = async () => {\n${body(60)}\n};\n`,
      ["function run:62"],
    ],
    ["a method of a class", `class A {\n  go(): void {\n${body(60)}\n  }\n}\n`, ["function go:62"]],
    [
      "an exempt outer function still checks what it nests",
      `// size: why\nfunction outer() {\n  const inner = () => {\n${body(60)}\n  };\n}\n`,
      ["function inner:62"],
    ],
  ])("%s", (_name, source, expected) => {
    const found = checkSource("x.ts", source).map((v) => `${v.kind} ${v.name}:${v.lines}`);
    expect(found).toEqual(expected);
  });

  it("flags a file over 300 lines unless its opening comments give a reason", () => {
    const long = Array.from({ length: MAX_FILE_LINES + 1 }, (_, i) => `export const c${i} = ${i};`);
    expect(checkSource("long.ts", long.join("\n")).map((v) => v.kind)).toEqual(["file"]);
    expect(checkSource("ok.ts", long.slice(1).join("\n"))).toEqual([]);
    const exempt = ["/** What it is. */", "// size: generated-like table of cases", ...long];
    expect(checkSource("exempt.ts", exempt.join("\n"))).toEqual([]);
    const late = ["export const first = 0;", "// size: too late", ...long];
    expect(checkSource("late.ts", late.join("\n")).map((v) => v.kind)).toEqual(["file"]);
  });

  it("names the file, the line and how to fix it", () => {
    const [v] = checkSource("src/x.ts", `\n${fn(61)}`);
    expect(formatViolation(v!)).toBe(
      'src/x.ts:2: function big is 61 lines (limit 60); split it, or say why above it in a "// size: ..." comment',
    );
  });
});
