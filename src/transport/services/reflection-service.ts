import { create, toBinary, type DescFile, type DescMessage, type DescEnum } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import * as v1 from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** Every file the served services need, by file name and by fully-qualified symbol. */
class DescriptorIndex {
  readonly files = new Map<string, DescFile>();
  readonly fileBySymbol = new Map<string, DescFile>();

  constructor(readonly services: readonly DescService[]) {
    for (const s of services) this.addFile(s.file);
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    const addMessage = (m: DescMessage) => {
      this.fileBySymbol.set(m.typeName, file);
      m.nestedMessages.forEach(addMessage);
      m.nestedEnums.forEach((e: DescEnum) => this.fileBySymbol.set(e.typeName, file));
    };
    file.messages.forEach(addMessage);
    file.enums.forEach((e) => this.fileBySymbol.set(e.typeName, file));
    for (const s of file.services) {
      this.fileBySymbol.set(s.typeName, file);
      for (const m of s.methods) this.fileBySymbol.set(`${s.typeName}.${m.name}`, file);
    }
    file.dependencies.forEach((d) => this.addFile(d));
  }

  /** The file first, then its transitive dependencies, each once: what grpcurl needs to build a descriptor. */
  withDependencies(file: DescFile): Uint8Array[] {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (f: DescFile) => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      f.dependencies.forEach(visit);
    };
    visit(file);
    return out;
  }
}

const NOT_FOUND = 5;
const UNIMPLEMENTED = 12;

type ReflectionRequest = v1.ServerReflectionRequest | v1alpha.ServerReflectionRequest;

function answer(index: DescriptorIndex, req: ReflectionRequest) {
  const r = req.messageRequest;
  const error = (code: number, message: string) => ({ case: "errorResponse" as const, value: { errorCode: code, errorMessage: message } });
  const files = (file: DescFile | undefined, what: string) =>
    file ? { case: "fileDescriptorResponse" as const, value: { fileDescriptorProto: index.withDependencies(file) } } : error(NOT_FOUND, `${what} not found`);
  switch (r.case) {
    case "listServices":
      return { case: "listServicesResponse" as const, value: { service: index.services.map((s) => ({ name: s.typeName })) } };
    case "fileByFilename":
      return files(index.files.get(r.value), `file ${r.value}`);
    case "fileContainingSymbol":
      return files(index.fileBySymbol.get(r.value), `symbol ${r.value}`);
    case "allExtensionNumbersOfType":
      return index.fileBySymbol.has(r.value)
        ? { case: "allExtensionNumbersResponse" as const, value: { baseTypeName: r.value, extensionNumber: [] } }
        : error(NOT_FOUND, `type ${r.value} not found`);
    case "fileContainingExtension":
      return error(NOT_FOUND, "keyward defines no extensions");
    default:
      return error(UNIMPLEMENTED, "unsupported reflection request");
  }
}

/** gRPC server reflection, v1 and v1alpha (older grpcurl and grpc_cli speak only v1alpha). */
export function reflectionServices(services: readonly DescService[]) {
  const index = new DescriptorIndex(services);
  const impl = <Req extends ReflectionRequest>(schema: typeof v1.ServerReflectionResponseSchema | typeof v1alpha.ServerReflectionResponseSchema) =>
    async function* (requests: AsyncIterable<Req>) {
      for await (const req of requests) {
        yield create(schema as typeof v1.ServerReflectionResponseSchema, {
          validHost: req.host,
          originalRequest: req as v1.ServerReflectionRequest,
          messageResponse: answer(index, req),
        });
      }
    };
  const v1Impl: ServiceImpl<typeof v1.ServerReflection> = { serverReflectionInfo: impl<v1.ServerReflectionRequest>(v1.ServerReflectionResponseSchema) };
  const v1alphaImpl = { serverReflectionInfo: impl<v1alpha.ServerReflectionRequest>(v1alpha.ServerReflectionResponseSchema) } as unknown as ServiceImpl<typeof v1alpha.ServerReflection>;
  return { v1: v1Impl, v1alpha: v1alphaImpl, names: [v1.ServerReflection.typeName, v1alpha.ServerReflection.typeName] };
}
