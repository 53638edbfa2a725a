import type { Config } from "../config.js";

/** What the start line logs: everything but secrets. */
export function redactedConfig(config: Config): Record<string, unknown> {
  const { catalog: _catalog, keyPepper, mongodbUri, ...rest } = config;
  return {
    ...rest,
    mode: config.mode === "dev" ? "dev (in-memory)" : "mongodb",
    mongodbUri: mongodbUri === null ? null : redactMongoUri(mongodbUri),
    keyPepper: keyPepper === null ? null : "[redacted]",
  };
}

/** Query options that carry secrets (AWS session tokens, key passwords) are masked like the userinfo. */
const SECRET_URI_OPTIONS =
  /^(authmechanismproperties|tlscertificatekeyfilepassword|sslpass|password|proxypassword|secret.*|.*token.*)$/i;

export function redactMongoUri(uri: string): string {
  const [base, query] = uri.replace(/\/\/[^@/]*@/, "//***@").split("?", 2) as [
    string,
    string | undefined,
  ];
  if (query === undefined) return base;
  const options = query.split("&").map((pair) => {
    const name = pair.split("=", 1)[0]!;
    return SECRET_URI_OPTIONS.test(decodeURIComponent(name)) ? `${name}=***` : pair;
  });
  return `${base}?${options.join("&")}`;
}
