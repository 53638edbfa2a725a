/**
 * What keyward itself costs per cached Authorize, without a socket: the real
 * app (dev mode, memory store) and the real grpc-js handler on PORT, called
 * directly with request bytes, 50 at a time. Prints µs per call, 5 rounds.
 * Run: npx tsx bench/in-process.ts [calls-per-round]   (default 500000)
 */

import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { AuthorizeRequestSchema } from "../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../gen/keyward/v1/key_admin_pb.js";
import { startApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/observability/logger.js";

const arg = process.argv[2];
if (arg === "-h" || arg === "--help") {
  process.stdout.write(
    "Usage: npx tsx bench/in-process.ts [calls-per-round]\n\nkeyward's own cost per cached Authorize (50% allow, 50% deny), through the grpc-js handler, no socket.\n",
  );
  process.exit(0);
}
const CALLS = arg === undefined ? 500_000 : Number(arg);
if (!Number.isInteger(CALLS) || CALLS < 50) {
  process.stderr.write(
    `in-process: calls-per-round must be an integer of at least 50, got "${arg}"\n`,
  );
  process.exit(2);
}

// The handlers grpc-js is given, by path: called here as grpc-js would call them.
const handlers: Record<string, grpc.handleUnaryCall<Buffer, Buffer>> = {};
const addService = grpc.Server.prototype.addService;
grpc.Server.prototype.addService = function (
  definition: grpc.ServiceDefinition,
  impl: grpc.UntypedServiceImplementation,
) {
  for (const [name, method] of Object.entries(definition))
    handlers[method.path] = impl[name] as grpc.handleUnaryCall<Buffer, Buffer>;
  return addService.call(this, definition, impl);
};

const config = loadConfig(
  {
    PORT: "0",
    HTTP_PORT: "0",
    HOST: "127.0.0.1",
    KEY_PEPPER: "in-process-pepper-0123456789-abcdefghijklmnopqrstuvwxyz",
    LOG_LEVEL: "warn",
  },
  { devRequested: true },
);
const app = await startApp(config, createLogger("warn"));
const admin = createClient(
  KeyAdminService,
  createGrpcTransport({ baseUrl: `http://127.0.0.1:${app.port}` }),
);
const keys = await Promise.all(
  Array.from({ length: 100 }, (_, i) =>
    admin.createKey(
      { name: `k${i}`, workspace: "bench", scopes: ["campaigns:read", "leads:all"] },
      { headers: { authorization: `Bearer ${app.devRootKey}` } },
    ),
  ),
);
const requests = keys.flatMap((k) =>
  ["campaigns:read", "campaigns:write"].map((scope) =>
    Buffer.from(
      toBinary(
        AuthorizeRequestSchema,
        create(AuthorizeRequestSchema, {
          credential: { case: "apiKey", value: k.key },
          requiredScopes: [scope],
          workspace: "bench",
        }),
      ),
    ),
  ),
);
const authorize = handlers["/keyward.v1.AuthorizeService/Authorize"]!;
const metadata = new grpc.Metadata();
const call = (request: Buffer) =>
  new Promise<void>((resolve, reject) => {
    const unary = {
      request,
      metadata,
      once() {},
      off() {},
      sendMetadata() {},
    } as unknown as grpc.ServerUnaryCall<Buffer, Buffer>;
    authorize(unary, (err) =>
      err ? reject(new Error(`Authorize failed: ${err.details ?? String(err)}`)) : resolve(),
    );
  });
async function round(n: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i += 50)
    await Promise.all(
      Array.from({ length: 50 }, (_, j) => call(requests[(i + j) % requests.length]!)),
    );
  return Number(process.hrtime.bigint() - start) / n / 1000;
}
await round(Math.min(CALLS, 200_000)); // warm-up: JIT
for (let r = 1; r <= 5; r++)
  process.stdout.write(`round ${r}: ${(await round(CALLS)).toFixed(2)} µs per cached Authorize\n`);
await app.stop();
