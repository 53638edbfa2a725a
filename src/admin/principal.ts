import { type AdminIdentity, ROOT_WORKSPACE } from "../domain/admin-policy.js";
import { ADMIN_ALL } from "../domain/scopes.js";

/** Who is acting: an admin key (or the bootstrap command), as the policy sees it. */
export interface Principal extends AdminIdentity {
  keyId: string;
}

/** The bootstrap command acts as root: it makes the first admin keys. */
export const BOOTSTRAP_PRINCIPAL: Principal = {
  keyId: "bootstrap",
  workspace: ROOT_WORKSPACE,
  scopes: [ADMIN_ALL],
};
