import { GetKeyResponseSchema } from "../../../gen/keyward/v1/key_admin_pb.js";
import { CONNECTION_HELP, connect } from "../admin-cli.js";
import { command, respond } from "../command.js";
import { oneId } from "./args.js";
import { keyDetails } from "./output.js";

const HELP = `Usage: keyward keys get ID\n\n${CONNECTION_HELP}\n`;

export const getCommand = command("keyward keys get", HELP, {}, async (values, positionals) => {
  const id = oneId(positionals);
  const client = await connect(values);
  const res = await client.admin.getKey({ id });
  return respond(values.json, GetKeyResponseSchema, res, () => keyDetails(res.apiKey!));
});
