import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { type Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PayloadType,
  StreamingOutputCallRequestSchema,
  StreamingOutputCallResponseSchema,
  TestService,
} from "../../gen/grpc/testing/test_pb.js";
import { addUnaryService, InFlight } from "../../src/transport/grpc/unary-adapter.js";
import { goTool } from "../support/go-tools.js";

const execFileAsync = promisify(execFile);
const ECHO_INITIAL = "x-grpc-test-echo-initial";
const ECHO_TRAILING = "x-grpc-test-echo-trailing-bin";

/** grpc.testing.TestService's unary methods as a connect-es ServiceImpl, the way keyward's services are written. */
const testService: Partial<ServiceImpl<typeof TestService>> = {
  emptyCall() {
    return {};
  },
  unaryCall(req, ctx) {
    const initial = ctx.requestHeader.get(ECHO_INITIAL);
    if (initial !== null) ctx.responseHeader.set(ECHO_INITIAL, initial);
    const trailing = ctx.requestHeader.get(ECHO_TRAILING);
    if (trailing !== null) ctx.responseTrailer.set(ECHO_TRAILING, trailing);
    if (req.responseStatus && req.responseStatus.code !== 0)
      throw new ConnectError(req.responseStatus.message, req.responseStatus.code as Code);
    return { payload: { type: PayloadType.COMPRESSABLE, body: new Uint8Array(req.responseSize) } };
  },
  // UnimplementedCall is left out on purpose: the adapter must answer UNIMPLEMENTED.
};

/**
 * FullDuplexCall, which two of the cases also make, by hand on grpc-js: keyward's
 * adapter serves unary methods only (keyward has no streaming methods of its own).
 */
function fullDuplexCall(call: grpc.ServerDuplexStream<Buffer, Buffer>): void {
  const initial = call.metadata.get(ECHO_INITIAL);
  const trailing = call.metadata.get(ECHO_TRAILING);
  if (initial.length > 0) {
    const md = new grpc.Metadata();
    md.set(ECHO_INITIAL, initial[0]!);
    call.sendMetadata(md);
  }
  call.on("data", (bytes: Buffer) => {
    const req = fromBinary(StreamingOutputCallRequestSchema, bytes);
    if (req.responseStatus && req.responseStatus.code !== 0) {
      call.emit("error", { code: req.responseStatus.code, details: req.responseStatus.message });
      return;
    }
    for (const p of req.responseParameters) {
      call.write(
        Buffer.from(
          toBinary(
            StreamingOutputCallResponseSchema,
            create(StreamingOutputCallResponseSchema, {
              payload: { body: new Uint8Array(p.size) },
            }),
          ),
        ),
      );
    }
  });
  call.on("end", () => {
    const md = new grpc.Metadata();
    if (trailing.length > 0) md.set(ECHO_TRAILING, trailing[0]!);
    call.end(md);
  });
}

describe("grpc-go's interop client against a ServiceImpl served by keyward's grpc-js adapter", () => {
  let server: grpc.Server;
  let port: number;
  const client = goTool("grpc-interop-client", "GRPC_INTEROP_CLIENT");

  beforeAll(async () => {
    server = new grpc.Server({ "grpc.max_receive_message_length": 4 * 1024 * 1024 });
    addUnaryService(server, TestService, testService, [], new InFlight());
    const passthrough = (b: Buffer) => b;
    server.addService(
      {
        fullDuplexCall: {
          path: "/grpc.testing.TestService/FullDuplexCall",
          requestStream: true,
          responseStream: true,
          requestSerialize: passthrough,
          requestDeserialize: passthrough,
          responseSerialize: passthrough,
          responseDeserialize: passthrough,
        },
      },
      { fullDuplexCall },
    );
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
  });
  afterAll(() => server?.forceShutdown());

  it.each([
    "empty_unary",
    "large_unary",
    "custom_metadata",
    "status_code_and_message",
    "special_status_message",
    "unimplemented_method",
    "unimplemented_service",
  ])("%s", async (testCase) => {
    const run = await execFileAsync(
      client,
      [
        `--server_host=127.0.0.1`,
        `--server_port=${port}`,
        `--test_case=${testCase}`,
        "--use_tls=false",
      ],
      { encoding: "utf8" },
    ).then(
      (r) => ({ code: 0, output: r.stdout + r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: e.code ?? 1,
        output: `${e.stdout ?? ""}${e.stderr ?? ""}`,
      }),
    );
    expect(run.code, run.output).toBe(0);
  });
});
