import { memo } from 'react';

/**
 * A tiny SVG line for table cells. Deliberately not uPlot: the overview has
 * one per service and must stay light; the service page loads uPlot for the
 * real graph.
 */
export const Sparkline = memo(function Sparkline({ values, width = 96, height = 22, color = 'var(--accent)', label }: {
  values: readonly number[]; width?: number; height?: number; color?: string; label?: string;
}) {
  const n = values.length;
  // Scale to the window's range (with a floor of 20 % of the peak) so changes show;
  // the number beside the line carries the absolute value.
  let max = 0;
  let min = Number.POSITIVE_INFINITY;
  for (const v of values) {
    if (v > max) max = v;
    if (v < min) min = v;
  }
  if (!Number.isFinite(min)) min = 0;
  const span = Math.max(max - min, max * 0.2);
  const lo = max - span;
  const pad = 1.5;
  const pts: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = n === 1 ? width : (i / (n - 1)) * width;
    const y = span === 0 ? height - pad : height - pad - (((values[i] ?? 0) - lo) / span) * (height - 2 * pad);
    pts.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  }
  return (
    <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label} className="block shrink-0">
      <line x1="0" x2={width} y1={height - 0.5} y2={height - 0.5} stroke="var(--line)" strokeWidth="1" />
      {n > 1 ? <polyline points={pts.join(' ')} fill="none" stroke={color} strokeWidth="1.5" strokeLinejoin="round" /> : null}
    </svg>
  );
});
