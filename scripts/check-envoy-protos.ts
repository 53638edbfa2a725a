/**
 * Checks keyward's trimmed Envoy protos (proto/envoy) against Envoy's own
 * generated Go code in github.com/envoyproxy/go-control-plane/envoy: every
 * message, field and enum value keyward declares must exist there with the
 * same name and number. Run by scripts/check-envoy-protos.sh.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DescEnum, DescFile, DescMessage } from "@bufbuild/protobuf";
import { file_envoy_config_core_v3_base } from "../gen/envoy/config/core/v3/base_pb.js";
import { file_envoy_service_auth_v3_attribute_context } from "../gen/envoy/service/auth/v3/attribute_context_pb.js";
import { file_envoy_service_auth_v3_external_auth } from "../gen/envoy/service/auth/v3/external_auth_pb.js";
import { file_envoy_type_v3_http_status } from "../gen/envoy/type/v3/http_status_pb.js";

const moduleDir = process.argv[2];
if (!moduleDir) {
  process.stderr.write(
    "usage: tsx scripts/check-envoy-protos.ts <go-control-plane/envoy module directory>\n",
  );
  process.exit(2);
}

/** Go type name → proto field name → number, from the struct tags of a package's .pb.go files. */
function goFields(pkgDir: string): Map<string, Map<string, number>> {
  const types = new Map<string, Map<string, number>>();
  for (const file of readdirSync(pkgDir).filter(
    (f) => f.endsWith(".pb.go") && !f.includes("validate") && !f.includes("vtproto"),
  )) {
    const text = readFileSync(join(pkgDir, file), "utf8");
    for (const m of text.matchAll(/^type (\w+) struct \{([\s\S]*?)^\}/gm)) {
      const [, goType, body] = m as unknown as [string, string, string];
      for (const tag of body.matchAll(/protobuf:"\w+,(\d+),\w+,name=(\w+)[^"]*?(,oneof)?"/g)) {
        // A oneof case is a wrapper type, Parent_Case: its field belongs to Parent.
        const owner = tag[3] ? goType.slice(0, goType.lastIndexOf("_")) : goType;
        if (!types.has(owner)) types.set(owner, new Map());
        types.get(owner)!.set(tag[2]!, Number(tag[1]));
      }
    }
  }
  return types;
}

function goEnumValues(pkgDir: string, goEnum: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const file of readdirSync(pkgDir).filter((f) => f.endsWith(".pb.go"))) {
    // Constants are named Enum_VALUE at top level and Parent_VALUE when nested: match by type.
    for (const m of readFileSync(join(pkgDir, file), "utf8").matchAll(
      new RegExp(`^\\s+(\\w+) ${goEnum} = (-?\\d+)`, "gm"),
    ))
      values.set(m[1]!, Number(m[2]));
  }
  return values;
}

const problems: string[] = [];
let checked = 0;
function checkFile(file: DescFile): void {
  const pkgDir = join(moduleDir!, ...file.proto.package.split(".").slice(1));
  const fields = goFields(pkgDir);
  const goName = (typeName: string) =>
    typeName.slice(file.proto.package.length + 1).replaceAll(".", "_");
  const visitMessage = (msg: DescMessage) => {
    const upstream = fields.get(goName(msg.typeName));
    if (!upstream) problems.push(`${msg.typeName}: no such message in go-control-plane`);
    for (const f of msg.fields) {
      checked++;
      const n = upstream?.get(f.name);
      if (n !== f.number)
        problems.push(
          `${msg.typeName}.${f.name} = ${f.number}: upstream ${n === undefined ? "has no such field" : `numbers it ${n}`}`,
        );
    }
    for (const nested of msg.nestedMessages)
      if (!nested.proto.options?.mapEntry) visitMessage(nested);
    for (const e of msg.nestedEnums) visitEnum(e);
  };
  const visitEnum = (e: DescEnum) => {
    const upstream = goEnumValues(pkgDir, goName(e.typeName));
    for (const v of e.values) {
      checked++;
      const n = [...upstream].find(([constant]) => constant.endsWith(`_${v.name}`))?.[1];
      if (n !== v.number)
        problems.push(
          `${e.typeName}.${v.name} = ${v.number}: upstream ${n ?? "has no such value"}`,
        );
    }
  };
  for (const m of file.messages) visitMessage(m);
  for (const e of file.enums) visitEnum(e);
}

for (const file of [
  file_envoy_config_core_v3_base,
  file_envoy_type_v3_http_status,
  file_envoy_service_auth_v3_attribute_context,
  file_envoy_service_auth_v3_external_auth,
])
  checkFile(file);
if (problems.length > 0) {
  process.stderr.write(
    `check-envoy-protos: ${problems.length} difference(s) from go-control-plane:\n  ${problems.join("\n  ")}\n`,
  );
  process.exit(1);
}
process.stdout.write(
  `check-envoy-protos: ${checked} fields and enum values match go-control-plane\n`,
);
