import { type Logger, pino } from "pino";
import type { LogLevel } from "../config.js";

/** JSON logs; the redact paths are a second guard, secrets are never passed to the logger in the first place. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: "keyward" },
    redact: {
      paths: [
        "apiKey",
        "api_key",
        "key",
        "keyHash",
        "key_hash",
        "pepper",
        "keyPepper",
        "authorization",
        "*.authorization",
      ],
      censor: "[redacted]",
    },
  });
}
