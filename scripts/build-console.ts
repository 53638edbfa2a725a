import { existsSync } from "node:fs";
import { copyFile, mkdir, rename, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
export const CONSOLE_OUT_DIR = `${root}dist/console`;

/**
 * Bundles console/ into dist/console/{index.html,app.js,app.css}: the fixed
 * names src/transport/console-static.ts serves. One script file and one style
 * file, no inline code, so the page runs under the CSP of DESIGN "Console".
 */
export async function buildConsole(outDir = CONSOLE_OUT_DIR): Promise<void> {
  // Built aside, then renamed into place file by file: a keyward serving outDir
  // (or another test file building at the same time) never reads a half-written bundle.
  const staging = `${outDir}.staging-${process.pid}-${Date.now()}`;
  await mkdir(outDir, { recursive: true });
  try {
    await build({
      absWorkingDir: root,
      entryPoints: { app: "console/src/main.tsx" },
      outdir: staging,
      bundle: true,
      minify: true,
      format: "esm",
      target: "es2022",
      jsx: "automatic",
      jsxImportSource: "preact",
      tsconfig: "console/tsconfig.json",
      legalComments: "none",
      logLevel: "warning",
    });
    await copyFile(`${root}console/index.html`, `${staging}/index.html`);
    for (const f of ["app.js", "app.css", "index.html"])
      await rename(`${staging}/${f}`, `${outDir}/${f}`);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export function consoleBuilt(outDir = CONSOLE_OUT_DIR): boolean {
  return ["index.html", "app.js", "app.css"].every((f) => existsSync(`${outDir}/${f}`));
}

// `tsx scripts/build-console.ts [--if-missing]`: npm run build always builds, npm start only when missing.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes("--if-missing") && consoleBuilt()) process.exit(0);
  await buildConsole();
  console.log(`console built into ${CONSOLE_OUT_DIR}`);
}
