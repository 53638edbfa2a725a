import { type DescMessage, type MessageShape, toJson } from "@bufbuild/protobuf";
import {
  type CONNECTION_OPTIONS,
  type ConnectionFlags,
  EXIT,
  type Flags,
  fail,
  type OptionSpec,
  parse,
  print,
  printJson,
  UsageError,
} from "./admin-cli.js";

/** The flags every admin command accepts, whatever its own options. */
export type CommandFlags<T extends OptionSpec> = Flags<T & typeof CONNECTION_OPTIONS>;

/**
 * An admin command from its help, its options and what it does: parsing, --help
 * and turning failures into a message and an exit code are the same for all.
 */
export function command<T extends OptionSpec>(
  name: string,
  help: string,
  options: T,
  run: (values: CommandFlags<T>, positionals: string[]) => Promise<number>,
): (args: string[]) => Promise<number> {
  return async (args) => {
    let url: string | undefined;
    try {
      const { values, positionals } = parse(args, options);
      if (values.help) {
        print(help);
        return EXIT.ok;
      }
      url = (values as ConnectionFlags).url;
      return await run(values, positionals);
    } catch (err) {
      return fail(name, err, url);
    }
  };
}

/** A response as JSON under --json, else as the text made by `text`; the command then succeeds. */
export function respond<S extends DescMessage>(
  json: boolean | undefined,
  schema: S,
  message: MessageShape<S>,
  text: () => string,
): number {
  if (json) printJson(toJson(schema, message));
  else print(text());
  return EXIT.ok;
}

/** --limit as a positive integer, or the command's default. */
export function limitFlag(value: string | undefined, fallback: number): number {
  const limit = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(limit) || limit <= 0)
    throw new UsageError(`--limit must be a positive integer, got ${JSON.stringify(value)}`);
  return limit;
}

/** Pages of a list call until `limit` items or the last page; also the token to go on from. */
export async function collectPages<T>(
  limit: number,
  fetchPage: (pageSize: number, pageToken: string) => Promise<{ items: T[]; next: string }>,
): Promise<{ items: T[]; next: string }> {
  const items: T[] = [];
  let next = "";
  do {
    const page = await fetchPage(Math.min(1000, limit - items.length), next);
    items.push(...page.items);
    next = page.next;
  } while (next !== "" && items.length < limit);
  return { items, next };
}
