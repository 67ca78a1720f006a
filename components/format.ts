/**
 * Number formatting for live tables. Every formatter returns a string of
 * bounded, predictable width (3 significant digits + unit) so ticking values
 * do not push columns around.
 */

const SI = ['', 'k', 'M', 'G', 'T', 'P'] as const;

function scaled(value: number, base: 1000 | 1024): { v: number; unit: number } {
  let v = Math.abs(value);
  let unit = 0;
  while (v >= base && unit < SI.length - 1) {
    v /= base;
    unit++;
  }
  // 999.6 rounds to "1000"; step up instead so width stays at 3 digits.
  if (unit < SI.length - 1 && Number(v.toPrecision(3)) >= base) {
    v /= base;
    unit++;
  }
  return { v: value < 0 ? -v : v, unit };
}

function digits(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** 1234 → "1.23k", 0.5 → "0.50"; integers below 1000 stay integers. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (Number.isInteger(n) && Math.abs(n) < 1000) return String(n);
  const { v, unit } = scaled(n, 1000);
  return `${digits(v)}${SI[unit]}`;
}

/** Rates per second: "0/s", "12.5/s", "1.20k/s". */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '–';
  if (perSecond === 0) return '0/s';
  const { v, unit } = scaled(perSecond, 1000);
  return `${digits(v)}${SI[unit]}/s`;
}

/** Bytes in binary units: "512 B", "1.50 KiB", "3.20 GiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '–';
  if (Math.abs(bytes) < 1024) return `${Math.round(bytes)} B`;
  const { v, unit } = scaled(bytes, 1024);
  return `${digits(v)} ${SI[unit]!.toUpperCase()}iB`;
}

/** Bit rate for links, as network people read it: "8.00 Mbit/s". */
export function formatBitRate(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond)) return '–';
  const bits = bytesPerSecond * 8;
  if (bits === 0) return '0 bit/s';
  const { v, unit } = scaled(bits, 1000);
  return `${digits(v)} ${SI[unit]}bit/s`;
}

/** 0.4567 → "45.7%"; shares are clamped to [0, 1]. */
export function formatPercent(share: number): string {
  if (!Number.isFinite(share)) return '–';
  const p = Math.min(1, Math.max(0, share)) * 100;
  return `${p >= 99.95 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

/** Seconds as the kernel's connection timers read: "59s", "2m05s", "1h00m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
