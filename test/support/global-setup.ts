import type { TestProject } from "vitest/node";
import { provideMongo } from "./mongo-provider.js";

declare module "vitest" {
  export interface ProvidedContext {
    mongoUri: string;
  }
}

export default async function setup(project: TestProject) {
  const mongo = await provideMongo();
  process.stderr.write(`[test-mongo] using ${mongo.source}\n`);
  project.provide("mongoUri", mongo.uri);
  return () => mongo.stop();
}
