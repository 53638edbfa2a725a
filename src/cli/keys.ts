import { EXIT, print } from "./admin-cli.js";
import { createCommand } from "./keys/create.js";
import { getCommand } from "./keys/get.js";
import { listCommand } from "./keys/list.js";
import { revokeCommand } from "./keys/revoke.js";
import { rotateCommand } from "./keys/rotate.js";
import { updateCommand } from "./keys/update.js";
import { usageCommand } from "./keys/usage.js";

const HELP = `Usage: keyward keys <command> [options]

Commands:
  create    make a key; prints its secret once
  list      keys as a table (newest first)
  get ID    one key's record
  update ID change name, scopes, domains or expiry
  revoke ID stop a key at once (asks on a terminal; --yes to skip)
  rotate ID a new secret with the same settings; the old one works for --grace
  usage ID  what the key did: calls over time, scopes used, what it could be trimmed to

Run 'keyward keys <command> --help' for its options.
`;

/** One small function per subcommand (src/cli/keys/), as main.ts does for the top-level commands. */
const SUBCOMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  create: createCommand,
  list: listCommand,
  get: getCommand,
  update: updateCommand,
  revoke: revokeCommand,
  rotate: rotateCommand,
  usage: usageCommand,
};

export async function keysCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    print(HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  const subcommand = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
  if (!subcommand) {
    process.stderr.write(`keyward keys: unknown command ${JSON.stringify(sub)}\n\n${HELP}`);
    return EXIT.usage;
  }
  return subcommand(rest);
}
