/**
 * Allowed and denied calls over time as two column charts sharing one time
 * axis, drawn with Unicode eighth blocks: readable at a glance in any terminal,
 * and without colour still unambiguous (each series has its own panel).
 */

export interface ChartPoint {
  start: Date;
  allowed: number;
  denied: number;
}

export interface ChartOptions {
  /** The terminal's width in columns. */
  width: number;
  /** ANSI colours (only when stdout is a terminal). */
  colour: boolean;
  granularity: "hour" | "day";
}

const BLOCKS = " ▁▂▃▄▅▆▇█";
const GREEN = "\x1b[32m";
const RED = "\x1b[31m";
const RESET = "\x1b[0m";

/** Adjacent buckets summed so the chart fits: `per` buckets per column. */
export function fitColumns(
  points: ChartPoint[],
  columns: number,
): { points: ChartPoint[]; per: number } {
  const per = Math.max(1, Math.ceil(points.length / Math.max(1, columns)));
  if (per === 1) return { points, per };
  const grouped: ChartPoint[] = [];
  for (let i = 0; i < points.length; i += per) {
    const group = points.slice(i, i + per);
    grouped.push({
      start: group[0]!.start,
      allowed: group.reduce((n, p) => n + p.allowed, 0),
      denied: group.reduce((n, p) => n + p.denied, 0),
    });
  }
  return { points: grouped, per };
}

/**
 * Rows of one panel, top first: each value scaled to height × 8 eighths (any value
 * above 0 shows at least ▁), in cells `cell` wide with a gap when there is room.
 */
export function columnRows(values: number[], height: number, cell = 1): string[] {
  const max = Math.max(0, ...values);
  const levels = values.map((v) =>
    v <= 0 || max === 0 ? 0 : Math.max(1, Math.round((v / max) * height * 8)),
  );
  const draw = (block: string) => (cell === 1 ? block : `${block.repeat(cell - 1)} `);
  const rows: string[] = [];
  for (let r = height - 1; r >= 0; r--)
    rows.push(
      levels
        .map((l) => draw(BLOCKS[Math.min(8, Math.max(0, l - r * 8))]!))
        .join("")
        .trimEnd(),
    );
  return rows;
}

function paint(text: string, colour: string | null): string {
  return colour === null ? text : `${colour}${text}${RESET}`;
}

interface Layout {
  gutter: number;
  cell: number;
}

function panel(
  title: string,
  values: number[],
  height: number,
  { gutter, cell }: Layout,
  colour: string | null,
): string[] {
  const max = Math.max(0, ...values);
  if (max === 0) return [`${title}: none`];
  const rows = columnRows(values, height, cell);
  const label = (i: number) => (i === 0 ? String(max) : "").padStart(gutter);
  return [
    `${title} (highest ${max})`,
    ...rows.map((row, i) => `${label(i)} ${i === 0 ? "┤" : "│"}${paint(row, colour)}`),
    `${"0".padStart(gutter)} └${"─".repeat(values.length * cell)}`,
  ];
}

function stamp(d: Date, granularity: "hour" | "day"): string {
  const iso = d.toISOString();
  return granularity === "hour" ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10);
}

/** The time axis: the first column's start on the left, the last one's on the right. */
function axis(points: ChartPoint[], { gutter, cell }: Layout, granularity: "hour" | "day"): string {
  const first = stamp(points[0]!.start, granularity);
  const last = stamp(points[points.length - 1]!.start, granularity);
  const pad = " ".repeat(gutter + 2);
  // The last label ends under the last column's bar, not its gap.
  const span = points.length * cell - (cell > 1 ? 1 : 0);
  if (span < first.length + last.length + 2) return `${pad}${first} → ${last}`;
  return `${pad}${first}${last.padStart(span - first.length)}`;
}

export function usageChart(points: ChartPoint[], options: ChartOptions): string {
  const sum = (k: "allowed" | "denied") => points.reduce((n, p) => n + p[k], 0);
  if (sum("allowed") + sum("denied") === 0) return "no calls in this range\n";
  // Wide enough for any column's sum, whatever the grouping turns out to be.
  const gutter = String(Math.max(sum("allowed"), sum("denied"))).length;
  const room = options.width - gutter - 3;
  const fitted = fitColumns(points, room);
  // Few buckets get wider bars with gaps between them: easier to tell apart and to count.
  const layout = {
    gutter,
    cell: Math.min(3, Math.max(1, Math.floor(room / fitted.points.length))),
  };
  const unit = options.granularity;
  const per = fitted.per === 1 ? `per ${unit}` : `per ${fitted.per} ${unit}s`;
  const values = (k: "allowed" | "denied") => fitted.points.map((p) => p[k]);
  return `${[
    ...panel(`allowed ${per}`, values("allowed"), 6, layout, options.colour ? GREEN : null),
    ...panel(`denied ${per}`, values("denied"), 3, layout, options.colour ? RED : null),
    axis(fitted.points, layout, unit),
  ].join("\n")}\n`;
}
