/**
 * The floor: a bare node:http2 server that answers every gRPC unary call with
 * an empty message and status OK. No decoding, no routing, no framework — what
 * a gRPC call costs on this machine before any server library does anything.
 * Run: node --import tsx bench/floor-server.ts PORT
 */
import http2 from "node:http2";

const EMPTY_MESSAGE = Buffer.from([0, 0, 0, 0, 0]); // uncompressed, length 0

export function startFloorServer(port: number, host = "127.0.0.1"): Promise<http2.Http2Server> {
  const server = http2.createServer();
  server.on("stream", (stream) => {
    stream.on("data", () => {});
    stream.on("end", () => {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc" },
        { waitForTrailers: true },
      );
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(EMPTY_MESSAGE);
    });
    stream.on("error", () => {});
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv[2] ?? 50099);
  await startFloorServer(port);
  process.stderr.write(`floor server on 127.0.0.1:${port}\n`);
}
