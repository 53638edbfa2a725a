import {
  create,
  type DescMessage,
  type DescMethodUnary,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

/**
 * Calls a unary method with @grpc/grpc-js, the reference gRPC client,
 * using protobuf-es for the message bytes.
 */
export function grpcJsUnary<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  method: DescMethodUnary<I, O>,
  input: MessageInitShape<I>,
  metadata: Record<string, string> = {},
): Promise<MessageShape<O>> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      `/${method.parent.typeName}/${method.name}`,
      (msg: MessageShape<I>) => Buffer.from(toBinary(method.input, msg)),
      (bytes: Buffer) => fromBinary(method.output, bytes),
      create(method.input, input),
      md,
      { deadline: Date.now() + 10_000 },
      (err, res) => (err ? reject(err) : resolve(res as MessageShape<O>)),
    );
  });
}

export function grpcJsClient(port: number): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}
