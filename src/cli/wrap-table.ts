/**
 * A table that fits a terminal: the `wrap` columns (long prose) are word-wrapped
 * onto more lines so the columns stay aligned instead of the terminal folding
 * every row. Answers each row's lines (the headers' first) so a caller can put
 * something under a row.
 */
export function wrappedRows(
  headers: string[],
  rows: string[][],
  wrap: number[],
  width: number,
): string[][] {
  const natural = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fixed = natural.reduce((a, w, i) => a + (wrap.includes(i) ? 0 : w), 0);
  const room = Math.max(20 * wrap.length, width - fixed - 2 * (headers.length - 1));
  const wrapNatural = wrap.reduce((a, i) => a + natural[i]!, 0);
  const widths = natural.map((w, i) =>
    wrap.includes(i) ? Math.max(20, Math.min(w, Math.floor((room * w) / wrapNatural))) : w,
  );
  return [headers, ...rows].map((row) => rowLines(row, widths));
}

function rowLines(row: string[], widths: number[]): string[] {
  const cells = row.map((c, i) => wrapText(c, widths[i]!));
  const height = Math.max(...cells.map((c) => c.length));
  return Array.from({ length: height }, (_, l) =>
    cells
      .map((c, i) => (c[l] ?? "").padEnd(widths[i]!))
      .join("  ")
      .trimEnd(),
  );
}

/** Greedy word wrap; a word longer than the width is split. */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (let word of text.split(" ")) {
    while (word.length > width) {
      if (line) lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = "";
    }
    if (line === "") line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  lines.push(line);
  return lines;
}
