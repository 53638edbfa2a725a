import { describe, expect, it } from "vitest";
import { AuthorizeRequestSchema } from "../../gen/keyward/v1/authorize_pb.js";
import {
  CreateKeyRequestSchema,
  UpdateKeyRequestSchema,
} from "../../gen/keyward/v1/key_admin_pb.js";
import { invalidUtf8Field } from "../../src/transport/grpc/invalid-utf8.js";

/** A length-delimited field (wire type 2). */
const ld = (number: number, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([(number << 3) | 2, body.length]), body]);
};
const text = (s: string) => Buffer.from(s, "utf8");
const BAD = Buffer.from([0xc3, 0x28]);

describe("naming the string field whose bytes are not UTF-8", () => {
  it.each([
    ["a top-level string", AuthorizeRequestSchema, ld(4, BAD), "domain"],
    [
      "the nth element of a repeated string",
      AuthorizeRequestSchema,
      Buffer.concat([ld(3, text("a:b")), ld(3, text("c:d")), ld(3, BAD)]),
      "required_scopes[2]",
    ],
    ["a string inside a nested message", UpdateKeyRequestSchema, ld(1, ld(2, BAD)), "api_key.name"],
    ["a map value", CreateKeyRequestSchema, ld(7, ld(1, text("team")), ld(2, BAD)), "metadata"],
    ["a map key", CreateKeyRequestSchema, ld(7, ld(1, BAD), ld(2, text("x"))), "metadata (a key)"],
  ])("%s", (_name, schema, bytes, expected) => {
    expect(invalidUtf8Field(schema, bytes)).toBe(expected);
  });

  it("answers null when every string is valid, or the bytes are broken otherwise", () => {
    expect(
      invalidUtf8Field(
        AuthorizeRequestSchema,
        Buffer.concat([ld(1, text("kw_live_x")), ld(4, text("ëxample.com"))]),
      ),
    ).toBeNull();
    expect(invalidUtf8Field(AuthorizeRequestSchema, Buffer.from([0x0a, 0x7f, 0x01]))).toBeNull();
  });
});
