'use client';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const MIN_SPAN_S = 60;

export interface RateSeries {
  label: string;
  color: string;
  values: ArrayLike<number>;
}

/**
 * Live multi-series rate graph (uPlot). Imported with next/dynamic from the
 * service page only, so uPlot stays out of the overview's bundle. The chart
 * is built once per series set and fed new data with setData on each tick.
 */
export default function RateChart({ times, series, unit, format, height = 260 }: {
  /** ms since epoch, shared by all series */
  times: ArrayLike<number>;
  series: readonly RateSeries[];
  unit: string;
  format: (v: number) => string;
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => `${s.label}|${s.color}`).join(',') + unit;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const css = getComputedStyle(document.documentElement);
    const ink = css.getPropertyValue('--ink-3').trim() || '#888';
    const grid = css.getPropertyValue('--line').trim() || '#ddd';
    const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '11px system-ui, sans-serif' };
    const opts: uPlot.Options = {
      width: el.clientWidth,
      height,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      // At least a minute of axis: with the first few samples uPlot would otherwise label
      // a one-second span in fractions of a second (":00.500").
      scales: {
        x: { time: true, range: (_u, min, max) => (min != null && max != null && max - min < MIN_SPAN_S ? [max - MIN_SPAN_S, max] : [min, max]) },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [axis, { ...axis, size: 64, values: (_u, vals) => vals.map((v) => format(v)) }],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, value: (_u: uPlot, v: number | null) => (v == null ? '–' : format(v)) }))],
    };
    const p = new uPlot(opts, [[], ...series.map(() => [])] as uPlot.AlignedData, el);
    plot.current = p;
    const ro = new ResizeObserver(() => p.setSize({ width: el.clientWidth, height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      p.destroy();
      plot.current = null;
    };
    // Rebuild only when the set of series changes; data flows through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, height]);

  useEffect(() => {
    const xs = Array.from(times, (t) => t / 1000);
    const p = plot.current;
    if (!p) return;
    p.setData([xs, ...series.map((s) => Array.from(s.values, (v) => (Number.isNaN(v) ? null : v)))] as uPlot.AlignedData);
    // While the pointer is not on the chart, the legend shows the newest values.
    if ((p.cursor.left ?? -1) < 0 && xs.length > 0) p.setLegend({ idx: xs.length - 1 });
  });

  return <div ref={box} className="w-full" style={{ minHeight: height + 32 }} aria-label={`Per-server ${unit} over the last 15 minutes`} role="img" />;
}
