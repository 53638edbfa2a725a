/**
 * Size limits a reader can hold: no function (declaration, method, accessor,
 * function expression or arrow) longer than 60 lines and no file longer than
 * 300 lines in src/ and console/src/. A unit is exempt only when a comment
 * starting `// size:` says why: in the comments directly above the line the
 * function starts on, or for a file, in the comments at its top.
 *
 *   npx tsx scripts/check-sizes.ts [dir...]   (default: src console/src)
 *
 * `npm run lint` and test/unit/check-sizes.test.ts run it on src/.
 *
 * Exits 1 and prints one line per violation (file:line, what, how long).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const MAX_FUNCTION_LINES = 60;
export const MAX_FILE_LINES = 300;

export interface SizeViolation {
  file: string;
  /** 1-based line where the unit starts. */
  line: number;
  kind: "file" | "function";
  name: string;
  lines: number;
  limit: number;
}

const EXEMPTION = /^\s*\/\/\s*size:\s*\S/;

/**
 * The comment lines (`//` and doc comments) that end on the line just above
 * `line` (0-based): a `// size:` line may sit above a function's doc comment.
 */
function commentBlockAbove(lines: readonly string[], line: number): string[] {
  const block: string[] = [];
  for (let i = line - 1; i >= 0 && /^(\/\/|\/\*|\*)/.test(lines[i]!.trim()); i--) {
    block.push(lines[i]!);
  }
  return block;
}

function exemptAt(lines: readonly string[], line: number): boolean {
  return commentBlockAbove(lines, line).some((l) => EXEMPTION.test(l));
}

/** The file's opening comments (blank lines, `//` lines and `/* *\/` blocks before the first code). */
function fileExempt(lines: readonly string[]): boolean {
  let inBlock = false;
  for (const raw of lines) {
    const l = raw.trim();
    if (inBlock) {
      inBlock = !l.includes("*/");
      continue;
    }
    if (l === "") continue;
    if (l.startsWith("/*")) {
      inBlock = !l.includes("*/");
      continue;
    }
    if (!l.startsWith("//")) return false;
    if (EXEMPTION.test(raw)) return true;
  }
  return false;
}

function isFunction(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

function functionName(node: ts.FunctionLikeDeclaration, source: ts.SourceFile): string {
  if (node.name) return node.name.getText(source);
  if (ts.isConstructorDeclaration(node)) return "constructor";
  const parent = node.parent;
  if (
    (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) &&
    parent.name !== undefined
  ) {
    return parent.name.getText(source);
  }
  return "(anonymous)";
}

/** The violations in one file's text; `file` only names them. */
export function checkSource(file: string, text: string): SizeViolation[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const found: SizeViolation[] = [];
  if (lines.length > MAX_FILE_LINES && !fileExempt(lines)) {
    found.push({
      file,
      line: 1,
      kind: "file",
      name: file,
      lines: lines.length,
      limit: MAX_FILE_LINES,
    });
  }
  const kind = file.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const visit = (node: ts.Node): void => {
    if (isFunction(node) && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const length = end - start + 1;
      if (length > MAX_FUNCTION_LINES && !exemptAt(lines, start)) {
        found.push({
          file,
          line: start + 1,
          kind: "function",
          name: functionName(node, source),
          lines: length,
          limit: MAX_FUNCTION_LINES,
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts"))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** The violations under the given directories (paths in the answer are relative to `root`). */
export function checkSizes(root: string, dirs: readonly string[]): SizeViolation[] {
  return dirs.flatMap((dir) =>
    sourceFiles(resolve(root, dir)).flatMap((path) =>
      checkSource(relative(root, path), readFileSync(path, "utf8")),
    ),
  );
}

export function formatViolation(v: SizeViolation): string {
  const what = v.kind === "file" ? "file" : `function ${v.name}`;
  return `${v.file}:${v.line}: ${what} is ${v.lines} lines (limit ${v.limit}); split it, or say why above it in a "// size: ..." comment`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
  const dirs = process.argv.length > 2 ? process.argv.slice(2) : ["src", "console/src"];
  const violations = checkSizes(root, dirs);
  for (const v of violations) process.stderr.write(`${formatViolation(v)}\n`);
  if (violations.length > 0) process.exit(1);
}
