import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import type { UsageBucket } from "../../../gen/keyward/v1/usage_pb.js";

const HEIGHT = 220;

/**
 * Allowed and denied calls per bucket, drawn by uPlot on a canvas (styles set
 * through the CSSOM, never inline markup, so the CSP holds). The table next to
 * it carries the same numbers for screen readers and keyboard users.
 */
export function UsageChart(props: { buckets: UsageBucket[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = props.buckets.map((b) => Number(b.startTime?.seconds ?? 0n));
    const data: uPlot.AlignedData = [
      xs,
      props.buckets.map((b) => Number(b.allowed)),
      props.buckets.map((b) => Number(b.denied)),
    ];
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: HEIGHT,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        series: [
          {},
          {
            label: "Allowed",
            stroke: "#1b7f3b",
            fill: "rgba(27,127,59,0.12)",
            width: 2,
            points: { show: true },
          },
          {
            label: "Denied",
            stroke: "#b3261e",
            fill: "rgba(179,38,30,0.12)",
            width: 2,
            points: { show: true },
          },
        ],
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(280, el.clientWidth), height: HEIGHT }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.buckets]);
  return (
    <div
      ref={box}
      class="chart"
      role="img"
      aria-label="Allowed and denied calls over time (the table below has the same numbers)"
    />
  );
}
