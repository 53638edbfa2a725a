import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../gen/grpc/health/v1/health_pb.js";

const HELP = `Usage: keyward healthcheck [--help]

Calls grpc.health.v1.Health/Check on 127.0.0.1:$PORT (default 50051) and exits
0 when the server answers SERVING, 1 otherwise. Used by the Docker HEALTHCHECK.
With TLS_CERT_FILE set it connects over TLS (server certificate not verified:
it is the local process). Not usable when TLS_CLIENT_CA_FILE requires client certificates.
`;

export async function healthcheckCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(HELP);
    return 0;
  }
  const tls = !!process.env.TLS_CERT_FILE;
  const transport = createGrpcTransport({
    baseUrl: `${tls ? "https" : "http"}://127.0.0.1:${process.env.PORT || "50051"}`,
    nodeOptions: tls ? { rejectUnauthorized: false } : {},
  });
  const res = await createClient(Health, transport).check({ service: "" }, { timeoutMs: 2000 });
  const serving = res.status === Status.SERVING;
  process.stdout.write(`${Status[res.status]}\n`);
  return serving ? 0 : 1;
}
