import { startApp } from "./app.js";
import { ConfigError, loadConfig, redactedConfig, type Config } from "./config.js";
import { createLogger } from "./observability/logger.js";

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`keyward: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const log = createLogger(config.logLevel);
const app = await startApp(config, log);
log.info({ config: redactedConfig(config), port: app.port, httpPort: app.httpPort }, "keyward started");

if (app.devRootKey !== null) {
  // Straight to the terminal, never through the logger: secrets do not belong in logs.
  process.stderr.write(
    [
      "",
      "  ⚠  DEV MODE: MONGODB_URI is unset. Keys live in memory and are lost when keyward stops.",
      "  Root admin key (workspace *, keyward:all; shown once):",
      "",
      `    ${app.devRootKey}`,
      "",
      `  Try: grpcurl -plaintext -H 'authorization: Bearer ${app.devRootKey}' localhost:${app.port} keyward.v1.KeyAdminService/ListScopes`,
      `   or: curl -H 'content-type: application/json' -H 'authorization: Bearer ${app.devRootKey}' -d '{}' http://localhost:${app.httpPort}/keyward.v1.KeyAdminService/ListScopes`,
      "",
    ].join("\n") + "\n",
  );
}

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: finishing in-flight calls");
    app.stop().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  });
}
