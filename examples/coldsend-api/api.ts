/**
 * A small API shaped like ColdSend's (campaigns, sender accounts, leads), each
 * route guarded by the scope the seeds give it. Data is in memory, per workspace:
 * the workspace comes from the key keyward accepted (req.keyward.workspace).
 */
import express, { type Request } from "express";
import type { KeywardClient } from "keyward/client";
import { requireScopes } from "keyward/express";

interface Campaign {
  id: string;
  name: string;
  status: "draft" | "active" | "paused";
}

export function coldsendApi(client: KeywardClient) {
  const app = express();
  app.use(express.json());
  const guard = (...scopes: string[]) => requireScopes(scopes, { client });
  const data = new Map<string, { campaigns: Campaign[]; senders: string[]; leads: string[] }>();
  const of = (req: Request) => {
    const ws = req.keyward!.workspace;
    if (!data.has(ws)) data.set(ws, { campaigns: [], senders: [], leads: [] });
    return data.get(ws)!;
  };
  const campaign = (req: Request) => of(req).campaigns.find((c) => c.id === req.params.id);

  app.get("/campaigns", guard("campaigns:read"), (req, res) => void res.json(of(req).campaigns));
  app.post("/campaigns", guard("campaigns:create"), (req, res) => {
    const c: Campaign = {
      id: `cmp_${of(req).campaigns.length + 1}`,
      name: String(req.body?.name ?? "untitled"),
      status: "draft",
    };
    of(req).campaigns.push(c);
    res.status(201).json(c);
  });
  // campaigns:write is the seeds' composite: create, update, delete, pause and activate.
  app.put("/campaigns/:id", guard("campaigns:write"), (req, res) => {
    const c = campaign(req);
    if (!c)
      return void res
        .status(404)
        .json({ statusCode: 404, error: "Not Found", message: "no such campaign" });
    c.name = String(req.body?.name ?? c.name);
    res.json(c);
  });
  app.post("/campaigns/:id/pause", guard("campaigns:pause"), (req, res) => {
    const c = campaign(req);
    if (c) c.status = "paused";
    res.status(c ? 200 : 404).json(c ?? { message: "no such campaign" });
  });
  app.post("/campaigns/:id/activate", guard("campaigns:activate"), (req, res) => {
    const c = campaign(req);
    if (c) c.status = "active";
    res.status(c ? 200 : 404).json(c ?? { message: "no such campaign" });
  });
  app.delete("/campaigns/:id", guard("campaigns:delete"), (req, res) => {
    of(req).campaigns = of(req).campaigns.filter((c) => c.id !== req.params.id);
    res.status(204).end();
  });
  // Everything about campaigns at once, as the seeds' "full campaign access" keys have.
  app.get(
    "/campaigns/export",
    guard("campaigns:all"),
    (req, res) => void res.json({ campaigns: of(req).campaigns, exportedBy: req.keyward!.keyId }),
  );

  app.get(
    "/sender-accounts",
    guard("sender_accounts:read"),
    (req, res) => void res.json(of(req).senders),
  );
  app.post("/sender-accounts", guard("sender_accounts:create"), (req, res) => {
    of(req).senders.push(String(req.body?.email ?? "sender@example.com"));
    res.status(201).json(of(req).senders);
  });
  app.delete("/sender-accounts", guard("sender_accounts:delete"), (req, res) => {
    of(req).senders = [];
    res.status(204).end();
  });

  app.get("/leads", guard("leads:read"), (req, res) => void res.json(of(req).leads));
  app.post("/leads", guard("leads:create"), (req, res) => {
    of(req).leads.push(String(req.body?.email ?? "lead@example.com"));
    res.status(201).json(of(req).leads);
  });
  app.delete("/leads", guard("leads:delete"), (req, res) => {
    of(req).leads = [];
    res.status(204).end();
  });
  return app;
}
