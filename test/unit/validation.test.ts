import { describe, expect, it } from "vitest";
import {
  metadataViolations,
  nameViolation,
  revokeReasonViolation,
  textViolation,
} from "../../src/domain/validation.js";

describe("free text an operator reads: no control characters, no bidi controls", () => {
  it.each([
    ["plain ASCII", "checkout service", null],
    ["accents, CJK and emoji", "Café 東京 🚀", null],
    ["right-to-left text without controls", "מפתח ראשי", null],
    ["a tab (C0)", "a\tb", "contains a control character (U+0009) at position 1"],
    ["a newline (C0)", "line\nbreak", "contains a control character (U+000A) at position 4"],
    ["NUL (C0)", "\u0000", "contains a control character (U+0000) at position 0"],
    [
      "ESC starting a colour sequence (C0)",
      "abc\u001b[31mred",
      "contains a control character (U+001B) at position 3",
    ],
    ["U+001F, the last C0", "x\u001f", "contains a control character (U+001F) at position 1"],
    ["DEL", "a\u007f", "contains a control character (U+007F) at position 1"],
    ["U+0080, the first C1", "\u0080x", "contains a control character (U+0080) at position 0"],
    ["CSI (C1)", "ok\u009b2J", "contains a control character (U+009B) at position 2"],
    ["U+009F, the last C1", "\u009f", "contains a control character (U+009F) at position 0"],
    ["U+00A0 (no-break space) is printable", "a\u00a0b", null],
    [
      "a right-to-left override",
      "invoice\u202Egpj.exe",
      "contains a bidirectional control character (U+202E) at position 7",
    ],
    [
      "a left-to-right embedding",
      "\u202Aa",
      "contains a bidirectional control character (U+202A) at position 0",
    ],
    [
      "a first-strong isolate",
      "a\u2068b",
      "contains a bidirectional control character (U+2068) at position 1",
    ],
    [
      "a pop directional isolate",
      "a\u2069",
      "contains a bidirectional control character (U+2069) at position 1",
    ],
    [
      "positions count characters, not UTF-16 units",
      "🚀🚀\u001b",
      "contains a control character (U+001B) at position 2",
    ],
  ])("%s", (_name, value, problem) => {
    expect(textViolation(value, "name")).toEqual(
      problem === null ? null : { field: "name", problem },
    );
  });

  it("names: empty and length first, then the characters", () => {
    expect(nameViolation("  ", "name")).toEqual({ field: "name", problem: "must not be empty" });
    expect(nameViolation("x".repeat(201), "name")?.problem).toMatch(/at most 200/);
    expect(nameViolation("a\u001bb", "api_key.name")).toEqual({
      field: "api_key.name",
      problem: "contains a control character (U+001B) at position 1",
    });
    expect(nameViolation("billing", "name")).toBeNull();
  });

  it("revoke reasons: length, then the characters; empty is fine", () => {
    expect(revokeReasonViolation("", "reason")).toBeNull();
    expect(revokeReasonViolation("x".repeat(501), "reason")?.problem).toMatch(/at most 500/);
    expect(revokeReasonViolation("leaked\r\nFAKE LOG LINE", "reason")).toEqual({
      field: "reason",
      problem: "contains a control character (U+000D) at position 6",
    });
  });

  it("metadata: values are checked and the violation names the key", () => {
    expect(metadataViolations({ team: "growth", owner: "a\u009bb" }, "metadata")).toEqual([
      {
        field: 'metadata["owner"]',
        problem: "contains a control character (U+009B) at position 1",
      },
    ]);
    expect(metadataViolations({ "te\u001bam": "x" }, "metadata")).toEqual([
      { field: 'metadata["te\\u001bam"]', problem: "keys are 1-64 characters of [A-Za-z0-9_-]" },
    ]);
  });
});
