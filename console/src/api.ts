import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";

export type Admin = Client<typeof KeyAdminService>;
export type Authorize = Client<typeof AuthorizeService>;

/** Connect JSON on the page's own origin: the same KeyAdmin contract the CLI uses over gRPC. */
function transport(interceptors: Interceptor[] = []) {
  return createConnectTransport({ baseUrl: location.origin, useBinaryFormat: false, interceptors });
}

/** Every KeyAdmin call carries the admin key as `authorization: Bearer`; never in a URL. */
export function adminClient(adminKey: string): Admin {
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${adminKey}`);
    return next(req);
  };
  return createClient(KeyAdminService, transport([bearer]));
}

export function authorizeClient(): Authorize {
  return createClient(AuthorizeService, transport());
}
