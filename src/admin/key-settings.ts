import type { Environment } from "../domain/types.js";

/** What an admin chooses about a key: CreateKey's request, and UpdateKey's masked fields. */
export interface KeySettings {
  name: string;
  workspace: string;
  scopes: string[];
  allowedDomains: string[];
  expiresAt: Date | null;
  environment: Environment | null;
  metadata: Record<string, string>;
}

export const UPDATABLE_FIELDS = [
  "name",
  "scopes",
  "allowed_domains",
  "expires_at",
  "metadata",
] as const;
export type UpdatableField = (typeof UPDATABLE_FIELDS)[number];
