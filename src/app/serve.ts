import { startApp } from "../app.js";
import { redactedConfig } from "../config/redaction.js";
import { type Config, ConfigError, loadConfig } from "../config.js";
import type { RawKey } from "../domain/types.js";
import { createLogger } from "../observability/logger.js";

/** Starts keyward from the environment and stops it on SIGTERM/SIGINT; exits 2 on bad configuration. */
export async function runServer(devRequested: boolean): Promise<void> {
  // `npm start` and `keyward dev` pass --dev: dev mode is asked for, never fallen into.
  let config: Config;
  try {
    config = loadConfig(process.env, { devRequested });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`keyward: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  const log = createLogger(config.logLevel);
  let app: Awaited<ReturnType<typeof startApp>>;
  try {
    app = await startApp(config, log);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`keyward: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  log.info(
    { config: redactedConfig(config), port: app.port, httpPort: app.httpPort },
    "keyward started",
  );

  if (app.devRootKey !== null) printDevBanner(config, app.port, app.httpPort, app.devRootKey);

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
}

/** Dev mode's root key and how to try it, where the developer looks. */
function printDevBanner(config: Config, port: number, httpPort: number, key: RawKey): void {
  // Straight to the terminal, never through the logger, and once: secrets do not belong in logs.
  process.stderr.write(
    `${[
      "",
      "  ⚠  DEV MODE: MONGODB_URI is unset. Keys live in memory and are lost when keyward stops.",
      `  Listening on ${config.host} (gRPC :${port}, HTTP :${httpPort}). Root admin key (workspace *, keyward:all; shown once):`,
      "",
      `    export KEYWARD_ADMIN_KEY=${key}`,
      "",
      `  Try: grpcurl -plaintext -H "authorization: Bearer $KEYWARD_ADMIN_KEY" localhost:${port} keyward.v1.KeyAdminService/ListScopes`,
      `   or: curl -H 'content-type: application/json' -H "authorization: Bearer $KEYWARD_ADMIN_KEY" -d '{}' http://localhost:${httpPort}/keyward.v1.KeyAdminService/ListScopes`,
      "",
    ].join("\n")}\n`,
  );
}
