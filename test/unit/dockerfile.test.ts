import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PRODUCTION_NODE_ARGS } from "../support/keyward-process.js";

/** The bench runs the compiled server as the image does: the two must not drift apart. */
describe("Dockerfile", () => {
  it("starts the server with the node options the tests and the bench use", () => {
    const text = readFileSync(new URL("../../Dockerfile", import.meta.url), "utf8");
    const cmd = text
      .split("\n")
      .filter((line) => line.startsWith("CMD "))
      .at(-1);
    expect(cmd, "the Dockerfile's last CMD line").toBeDefined();
    expect(JSON.parse(cmd!.slice(4))).toEqual([
      "node",
      ...PRODUCTION_NODE_ARGS,
      "dist/src/main.js",
    ]);
  });
});
