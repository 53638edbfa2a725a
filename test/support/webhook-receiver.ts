import { createServer, type Server } from "node:http";
import { Webhook } from "standardwebhooks";

export interface Received {
  id: string;
  type: string;
  body: string;
  payload: {
    type: string;
    timestamp: string;
    data: { key: Record<string, unknown>; [k: string]: unknown };
  };
}

/**
 * A real HTTP receiver on 127.0.0.1. Every request is verified with the Standard
 * Webhooks library (not keyward's own code); `status` is what it answers.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  readonly unverified: string[] = [];
  status = 204;
  /** Answer with a redirect to this URL instead. */
  redirectTo: string | null = null;
  secret = "";
  private server: Server | null = null;

  constructor(readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, String(v)]),
        );
        try {
          new Webhook(this.secret).verify(body, headers);
        } catch (err) {
          this.unverified.push(`${headers["webhook-id"]}: ${(err as Error).message}`);
          res.writeHead(400).end();
          return;
        }
        if (this.redirectTo) {
          res.writeHead(307, { location: this.redirectTo }).end();
          return;
        }
        if (this.status >= 200 && this.status < 300) {
          const payload = JSON.parse(body) as Received["payload"];
          this.received.push({ id: headers["webhook-id"]!, type: payload.type, body, payload });
        }
        res.writeHead(this.status).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
    this.server?.closeAllConnections();
    this.server = null;
  }

  types(): string[] {
    return this.received.map((r) => r.type);
  }

  /** Ids received more than once. */
  duplicates(): string[] {
    const ids = this.received.map((r) => r.id);
    return ids.filter((id, i) => ids.indexOf(id) !== i);
  }
}

/** Webhooks on, to receivers on 127.0.0.1 (any port), delivered and invalidated every 100 ms. */
export const FAST_WEBHOOKS = {
  WEBHOOK_URL_ALLOWLIST: "http://127.0.0.1:",
  WEBHOOK_POLL_MS: "100",
  INVALIDATION_POLL_MS: "100",
};
