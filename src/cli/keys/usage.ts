import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { GetKeyUsageResponseSchema, UsageGranularity } from "../../../gen/keyward/v1/usage_pb.js";
import { CONNECTION_HELP, connect } from "../admin-cli.js";
import { command, respond } from "../command.js";
import { usageRange } from "../usage/range-flags.js";
import { usageReport } from "../usage/report.js";
import { oneId } from "./args.js";

const HELP = `Usage: keyward keys usage ID [--since T] [--until T] [--by hour|day]

What the key actually did: allowed and denied calls over time as a chart, totals
(denied by reason, calls by entry point), each required scope (allowed, denied, last
used, the held scope that granted it), the domains asked for, the held scopes no
allowed call needed, and the smallest set of scopes that would have done, with the
\`keyward keys update\` command that applies it.

  --since T          from T: a time back from now (7d, 48h, 90m, 2w) or a date
                     (2026-11-01, 2026-11-01T12:00:00Z); default 30 days before --until
  --until T          up to T, in the same forms (default now)
  --by hour|day      bucket size (default hourly for 48 h or less, else daily)

The range is at most 400 days, and at most 800 buckets (hourly: 33 days).
--json prints GetKeyUsageResponse as JSON (counts are strings, zeros left out).

${CONNECTION_HELP}
`;

const OPTIONS = {
  since: { type: "string" },
  until: { type: "string" },
  by: { type: "string" },
} as const;

const GRANULARITY = { hour: UsageGranularity.HOUR, day: UsageGranularity.DAY } as const;

export const usageCommand = command(
  "keyward keys usage",
  HELP,
  OPTIONS,
  async (values, positionals) => {
    const id = oneId(positionals);
    const now = new Date();
    const { start, end, range } = usageRange(values, now);
    const client = await connect(values);
    const res = await client.admin.getKeyUsage({
      id,
      startTime: start ? timestampFromDate(start) : undefined,
      // Sent even by default, so the server's range is the one computed here.
      endTime: timestampFromDate(end ?? now),
      granularity: GRANULARITY[range.granularity],
    });
    // The key's name and held scopes head the report and make the suggestion's command.
    const key = values.json ? undefined : (await client.admin.getKey({ id })).apiKey!;
    const chart = {
      width: process.stdout.isTTY ? process.stdout.columns : 80,
      colour: process.stdout.isTTY === true && !process.env.NO_COLOR,
    };
    return respond(values.json, GetKeyUsageResponseSchema, res, () =>
      usageReport(key!, res, range, chart),
    );
  },
);
