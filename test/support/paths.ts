import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root directory (no trailing slash): where `npm` runs and relative paths in the docs start. */
export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
