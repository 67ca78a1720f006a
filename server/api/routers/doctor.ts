/**
 * `doctor.*`: what is wrong with this director and how to fix it
 * (lib/doctor/rules.ts on evidence from server/doctor/collect.ts).
 * `run` only reads, so a viewer may call it; `probeArp` sends ARP requests on
 * the director's LANs, so it needs an operator and runs at most once every
 * PROBE_INTERVAL_MS. Answers are bounded: at most MAX_FINDINGS findings.
 */
import type { DoctorEvidence } from '@/lib/doctor/evidence';
import { buildReport, MAX_FINDINGS, type DoctorReport } from '@/lib/doctor/report';
import { TooManyError } from '@/lib/errors';
import type { AgentContext } from '../context';
import { operatorProcedure, router, viewerProcedure } from '../trpc';
import { collectEvidence, type CollectOptions } from '../../doctor/collect';

export { MAX_FINDINGS };
export const PROBE_INTERVAL_MS = 10_000;
export const RUN_REUSE_MS = 5_000;

interface DoctorDeps {
  collect: (o: CollectOptions) => Promise<DoctorEvidence>;
  now: () => number;
}
const DEFAULTS: DoctorDeps = { collect: collectEvidence, now: Date.now };
let deps: DoctorDeps = DEFAULTS;
/** the last ARP probe's answers, kept so later runs still show what it found */
type Probe = { at: number; arp: NonNullable<DoctorEvidence['arp']> };
let lastProbe: Probe | null = null;
let probing: Promise<DoctorReport> | null = null;
let running: Promise<DoctorReport> | null = null;
/** the last run's report, and the probe it holds the answers of (a newer probe makes it stale) */
let lastRun: { at: number; report: DoctorReport; probe: Probe | null } | null = null;

/** Tests replace the collector (no kernel, no packets) and the clock; null restores them and forgets the last probe. */
export function setDoctorDepsForTests(d: Partial<DoctorDeps> | null): void {
  deps = d ? { ...DEFAULTS, ...d } : DEFAULTS;
  lastProbe = null;
  probing = null;
  running = null;
  lastRun = null;
}

const report = (ev: DoctorEvidence, arpAt: number | null): DoctorReport => buildReport(ev, arpAt);

function options(ctx: AgentContext, arp: boolean): CollectOptions {
  return { backend: ctx.backend, ha: ctx.ha?.enabled ? ctx.ha.status() : null, arp };
}

/**
 * One look at a time, and at most one every RUN_REUSE_MS: concurrent callers and
 * every open Doctor page share it (a look walks the whole connection table).
 */
function run(ctx: AgentContext): Promise<DoctorReport> {
  if (lastRun && deps.now() - lastRun.at < RUN_REUSE_MS && lastRun.probe === lastProbe) return Promise.resolve(lastRun.report);
  running ??= deps.collect(options(ctx, false))
    .then((ev) => {
      // answers of a probe of the last 10 minutes still say who answers ARP for the VIP
      const probe = lastProbe && deps.now() - lastProbe.at < 600_000 ? lastProbe : null;
      const r = report(probe ? { ...ev, arp: probe.arp } : ev, probe?.at ?? null);
      lastRun = { at: deps.now(), report: r, probe: lastProbe };
      return r;
    })
    .finally(() => { running = null; });
  return running;
}

function probeArp(ctx: AgentContext): Promise<DoctorReport> {
  if (probing) return probing;
  const now = deps.now();
  if (lastProbe && now - lastProbe.at < PROBE_INTERVAL_MS) {
    const s = Math.ceil((PROBE_INTERVAL_MS - (now - lastProbe.at)) / 1000);
    throw new TooManyError(`an ARP probe ran less than ${PROBE_INTERVAL_MS / 1000} s ago: try again in ${s} s`);
  }
  probing = deps.collect(options(ctx, true))
    .then((ev) => {
      lastProbe = { at: now, arp: ev.arp ?? [] };
      return report(ev, now);
    })
    .finally(() => { probing = null; });
  return probing;
}

export const doctorRouter = router({
  /** Findings from this director's settings, IPVS table and connection table (and the last ARP probe's answers). */
  run: viewerProcedure.query(({ ctx }) => run(ctx)),
  /** The same, after asking who answers ARP for each DR service's VIP on its LAN (sends packets: operator, 1 per 10 s). */
  probeArp: operatorProcedure.mutation(({ ctx }) => probeArp(ctx)),
});
