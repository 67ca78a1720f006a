/**
 * The page's main-thread tasks over 50 ms in a Chromium performance trace, each with the longest events
 * inside it (a script's function, a GC, layout) and, given the CPU profile taken alongside, the functions
 * with the most self time within it. Used by probe.ts; alone:
 *   npx tsx bench/console/trace-tasks.ts FILE.trace.json [FILE.cpuprofile]
 */
import { readFileSync } from 'node:fs';

export interface TraceEvent { name: string; ph: string; ts: number; dur?: number; pid: number; tid: number; args?: { name?: string; data?: Record<string, unknown> } }
export interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number } }[];
  startTime: number; endTime: number; samples: number[]; timeDeltas: number[];
}

/** Self time per function within [from, to] (µs, the trace's clock). */
function selfIn(p: Profile, from: number, to: number): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    if (t < from || t > to) continue;
    const f = byId.get(p.samples[i]!)!.callFrame;
    if (f.functionName === '(idle)') continue;
    const k = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.columnNumber ?? f.lineNumber}`;
    self.set(k, (self.get(k) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, us]) => `${k} ${(us / 1000).toFixed(1)}`).join('; ');
}

/** The page's main-thread tasks over 50 ms, each with the longest events inside it. */
export function longTasksOf({ traceEvents: ev }: { traceEvents: TraceEvent[] }, profile?: Profile): string[] {
  // the page's renderer: the main thread that ran the most script
  const calls = (t: TraceEvent) => ev.filter((x) => x.pid === t.pid && x.tid === t.tid && x.name === 'FunctionCall').length;
  const main = ev.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').sort((x, y) => calls(y) - calls(x))[0];
  if (!main) return ['(no renderer main thread in the trace)'];
  const mine = ev.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined);
  const t0 = Math.min(...mine.map((e) => e.ts));
  const out: string[] = [];
  for (const t of mine.filter((e) => e.name === 'RunTask' && e.dur! > 50_000)) {
    const inner = mine.filter((e) => e !== t && e.ts >= t.ts && e.ts + e.dur! <= t.ts + t.dur! && e.dur! > 3000 && !/RunTask|^v8\.|^V8\.GC_/.test(e.name));
    const what = inner.sort((x, y) => y.dur! - x.dur!).slice(0, 6).map((e) => {
      const d = e.args?.data ?? {};
      const where = [d.functionName, d.type, d.url && `${String(d.url).split('/').pop()}:${String(d.columnNumber ?? d.lineNumber ?? '')}`].filter((x) => x !== undefined && x !== '').join(' ');
      return `${e.name}${where ? ` (${where})` : ''} ${(e.dur! / 1000).toFixed(1)}`;
    });
    out.push(`  task at ${((t.ts - t0) / 1000).toFixed(0)} ms, ${(t.dur! / 1000).toFixed(0)} ms: ${what.join('; ')}`);
    if (profile) out.push(`    self: ${selfIn(profile, t.ts, t.ts + t.dur!)}`);
  }
  return out;
}

if (process.argv[1]?.endsWith('trace-tasks.ts')) {
  const json = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as unknown;
  console.log(longTasksOf(json(process.argv[2]!) as { traceEvents: TraceEvent[] }, process.argv[3] ? json(process.argv[3]) as Profile : undefined).join('\n'));
}
