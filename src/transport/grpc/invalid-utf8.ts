import { type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function valid(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * When protobuf-es refuses a request's bytes, names the string field whose
 * bytes are not UTF-8 (`api_key`, `api_key.metadata`, `required_scopes[1]`), so
 * the caller hears INVALID_ARGUMENT and where, not a generic decode failure.
 * Returns null when no string field is at fault (the bytes are broken otherwise).
 */
export function invalidUtf8Field(schema: DescMessage, bytes: Uint8Array, path = ""): string | null {
  const reader = new BinaryReader(bytes);
  const counts = new Map<number, number>();
  try {
    while (reader.pos < reader.len) {
      const [number, wireType] = reader.tag();
      const field = schema.fields.find((f) => f.number === number);
      if (!field || wireType !== WireType.LengthDelimited) {
        reader.skip(wireType, number);
        continue;
      }
      const index = counts.get(number) ?? 0;
      counts.set(number, index + 1);
      const name = path === "" ? field.name : `${path}.${field.name}`;
      const payload = reader.bytes();
      if (
        (field.fieldKind === "scalar" || field.fieldKind === "list") &&
        field.scalar === ScalarType.STRING
      ) {
        if (!valid(payload)) return field.fieldKind === "list" ? `${name}[${index}]` : name;
      } else if (field.fieldKind === "map") {
        // A map entry is a message: key = 1, value = 2.
        const entry = new BinaryReader(payload);
        while (entry.pos < entry.len) {
          const [n, t] = entry.tag();
          if (
            t === WireType.LengthDelimited &&
            ((n === 1 && field.mapKey === ScalarType.STRING) ||
              (n === 2 && field.mapKind === "scalar" && field.scalar === ScalarType.STRING))
          ) {
            if (!valid(entry.bytes())) return n === 1 ? `${name} (a key)` : name;
          } else entry.skip(t, n);
        }
      } else if (
        field.fieldKind === "message" ||
        (field.fieldKind === "list" && field.listKind === "message")
      ) {
        const inner = invalidUtf8Field(field.message!, payload, name);
        if (inner) return inner;
      }
    }
  } catch {
    return null;
  }
  return null;
}
