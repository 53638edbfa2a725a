import type { KeyRecord } from "../domain/types.js";
import { type AdminContext, enforce, findKey, requireKeyId } from "./admin-context.js";
import type { Principal } from "./principal.js";

export async function getKey(
  ctx: AdminContext,
  principal: Principal,
  id: string,
): Promise<KeyRecord> {
  requireKeyId(id);
  const record = await findKey(ctx, principal, id);
  enforce(ctx, principal, "read", { before: record, after: null }, id);
  return record;
}
