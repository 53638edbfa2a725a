import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Admin } from "./api.js";
import type { Identity } from "./session.js";

export interface ConsoleContext {
  admin: Admin;
  identity: Identity;
  /** The workspace a root admin picked ("" = all); a workspace admin's own. */
  workspace: string;
  /** Turns a failure into a sentence; signs out when the admin key stopped working. */
  problem: (err: unknown) => string;
}

export const Ctx = createContext<ConsoleContext | null>(null);

export function useConsole(): ConsoleContext {
  const c = useContext(Ctx);
  if (!c) throw new Error("useConsole outside the signed-in console");
  return c;
}
