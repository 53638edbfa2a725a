import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { RotateKeyResponseSchema } from "../../../gen/keyward/v1/key_admin_pb.js";
import { CONNECTION_HELP, connect, date, parseDuration } from "../admin-cli.js";
import { command, respond } from "../command.js";
import { oneId } from "./args.js";
import { secretNotice } from "./output.js";

const HELP = `Usage: keyward keys rotate ID [--grace T]

  --grace T          how long the old secret keeps working (default 24h; 0 ends it now)

Prints the new secret once.

${CONNECTION_HELP}
`;

export const rotateCommand = command(
  "keyward keys rotate",
  HELP,
  { grace: { type: "string" } },
  async (values, positionals) => {
    const id = oneId(positionals);
    const grace =
      values.grace === undefined
        ? undefined
        : durationFromMs(parseDuration(values.grace, "--grace"));
    const client = await connect(values);
    const res = await client.admin.rotateKey({ id, gracePeriod: grace });
    const text = () =>
      `${secretNotice(res.key, res.apiKey!, "Rotated to")}The old key ${id} works until ${date(res.previousApiKey?.revokedAt)}.\n`;
    return respond(values.json, RotateKeyResponseSchema, res, text);
  },
);
