/**
 * npm run example: keyward in dev mode, a demo key, and the ColdSend-shaped API
 * in front of it. Ports: KEYWARD_PORT (50051), KEYWARD_HTTP_PORT (8080), API_PORT (3000).
 */
import { spawn } from "node:child_process";
import { createKeywardClient } from "keyward/client";
import { coldsendApi } from "./api.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const grpcPort = process.env.KEYWARD_PORT ?? "50051";
const httpPort = process.env.KEYWARD_HTTP_PORT ?? "8080";
const apiPort = Number(process.env.API_PORT ?? 3000);

process.stdout.write(
  `starting keyward in dev mode on :${grpcPort} (gRPC) and :${httpPort} (HTTP)…\n`,
);
const keyward = spawn(process.execPath, ["dist/src/main.js"], {
  cwd: ROOT,
  env: {
    ...process.env,
    PORT: grpcPort,
    HTTP_PORT: httpPort,
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    MONGODB_URI: "",
    KEYWARD_DEV: "1",
  },
  stdio: ["ignore", "inherit", "pipe"],
});
let stderr = "";
const rootKey = await new Promise<string>((resolve, reject) => {
  keyward.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
    const m = /kw_test_[0-9A-Za-z]{49}/.exec(stderr);
    if (m) resolve(m[0]);
  });
  keyward.once("exit", (code) => reject(new Error(`keyward exited with ${code}:\n${stderr}`)));
});
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    keyward.kill("SIGTERM");
    process.exit(0);
  });

const client = createKeywardClient({ url: `http://127.0.0.1:${grpcPort}`, adminKey: rootKey });
const demo = await client.admin.createKey({
  name: "demo (read campaigns, all leads)",
  workspace: "acme",
  scopes: ["campaigns:read", "leads:all"],
});
const app = coldsendApi(client);
app.listen(apiPort, "127.0.0.1", () => {
  const base = `http://127.0.0.1:${apiPort}`;
  process.stdout.write(
    [
      `ColdSend API on ${base}`,
      `demo key (workspace acme; campaigns:read, leads:all): ${demo.key}`,
      "",
      `  curl -H 'X-API-Key: ${demo.key}' ${base}/campaigns                       # 200`,
      `  curl -H 'X-API-Key: ${demo.key}' -X POST ${base}/campaigns                # 403: needs campaigns:create`,
      `  curl ${base}/leads                                                         # 401: no key`,
      "",
      `root admin key: ${rootKey}  (npx keyward keys create --url http://127.0.0.1:${grpcPort} --admin-key … to make others)`,
      "",
    ].join("\n"),
  );
});
