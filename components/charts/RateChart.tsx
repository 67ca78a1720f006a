'use client';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const MIN_SPAN_S = 60;
/** Samples further apart than this (and than 3 sampling periods) had none between them: the line breaks there. */
const GAP_MIN_S = 5;

/**
 * Chart data in seconds, with a null point inside every gap between samples: the agent samples only
 * every minute while nobody watches, and a straight line across such a gap drew rates nobody measured.
 */
export function withGaps(times: ArrayLike<number>, series: readonly RateSeries[], intervals?: ArrayLike<number>): { xs: number[]; ys: (number | null)[][] } {
  const xs: number[] = [];
  const ys: (number | null)[][] = series.map(() => []);
  let step = Infinity;
  for (let i = 1; i < times.length; i++) if (times[i]! > times[i - 1]!) step = Math.min(step, (times[i]! - times[i - 1]!) / 1000);
  const gap = Math.max(GAP_MIN_S, 3 * step);
  for (let i = 0; i < times.length; i++) {
    const x = times[i]! / 1000;
    // with each point's interval known (the agent's history), a gap is time no interval covered
    const over = intervals ? Math.max(GAP_MIN_S, (1.5 * intervals[i]!) / 1000) : gap;
    if (i > 0 && x - xs[xs.length - 1]! > over) {
      xs.push((x + xs[xs.length - 1]!) / 2);
      for (const y of ys) y.push(null);
    }
    xs.push(x);
    series.forEach((s, k) => { const v = s.values[i]!; ys[k]!.push(Number.isNaN(v) ? null : v); });
  }
  return { xs, ys };
}

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
export default function RateChart({ times, intervals, series, unit, format, height = 260, rangeWords = '15 minutes' }: {
  /** ms since epoch, shared by all series */
  times: ArrayLike<number>;
  /** ms each point's rate covers (from the agent's history); without, gaps are guessed from the spacing */
  intervals?: ArrayLike<number>;
  /** what the chart spans, for its label ("15 minutes", "24 hours") */
  rangeWords?: string;
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
  }, [shape, height]);

  useEffect(() => {
    const p = plot.current;
    if (!p) return;
    const { xs, ys } = withGaps(times, series, intervals);
    // one point alone gives uPlot no span, and its own choice for a time scale covers years:
    // an empty point a minute before gives the scale its minute
    if (xs.length === 1) {
      xs.unshift(xs[0]! - MIN_SPAN_S);
      for (const y of ys) y.unshift(null);
    }
    p.setData([xs, ...ys] as uPlot.AlignedData);
    // While the pointer is not on the chart, the legend shows the newest values.
    if ((p.cursor.left ?? -1) < 0 && xs.length > 0) p.setLegend({ idx: xs.length - 1 });
  });

  // the points and the oldest one's time, for readers and tests that cannot see the drawing
  const oldest = times.length ? times[0]! : null;
  return (
    <div ref={box} className="w-full" style={{ minHeight: height + 32 }} role="img" data-points={times.length} data-oldest={oldest ?? ''}
      aria-label={`Per-server ${unit} over the last ${rangeWords}: ${times.length} points${oldest !== null ? ` since ${new Date(oldest).toISOString()}` : ''}`} />
  );
}
