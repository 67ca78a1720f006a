/**
 * The verdict on a change set: the doctor's kind of rules, run on the table
 * as it would be after the change and judged against the table as it is,
 * without I/O. Only the services the change touches are judged, so an old
 * problem elsewhere does not block today's edit. Each finding says what it
 * is about, how bad, and why; a finding that is not `info` flags the draft,
 * which then applies only when the operator acknowledges it.
 */
import { inPrefix } from '../doctor/evidence';
import type { Severity } from '../doctor/rules';
import { formatDestination, formatServiceKey } from '../ipvs/format';
import { destinationId, serviceId } from '../ipvs/ids';
import type { DestinationSpec, ServiceRules } from '../ipvs/model';

export type { Severity };

export const VERDICT_RULES = ['dr-subnet', 'mh-sloppy', 'vip-elsewhere', 'last-healthy', 'weight0-persistence'] as const;
export type VerdictRule = (typeof VERDICT_RULES)[number];

export interface VerdictFinding {
  rule: VerdictRule;
  severity: Severity;
  /** the service or real server it is about */
  subject: string;
  title: string;
  why: string;
}

/** Health as the health checks see a real server now. */
export type RealServerHealth = 'up' | 'down' | 'unknown' | 'unchecked' | 'maintenance';

/** What the rules know of the director besides its table; null where it is not known (that rule then stays silent). */
export interface VerdictContext {
  /** the director's IPv4 addresses with their prefix length: its LANs */
  lans: { address: string; prefix: number }[] | null;
  /** net.ipv4.vs.sloppy_tcp */
  sloppyTcp: number | null;
  /** net.ipv4.vs.expire_quiescent_template */
  expireQuiescentTemplate: number | null;
  /** connection sync daemons running */
  syncDaemons: number | null;
  /** the VIPs other directors of the fleet serve */
  others: { director: string; vips: string[] }[] | null;
  /** health by healthKey(service, real server) */
  health: Record<string, RealServerHealth>;
}

export const EMPTY_CONTEXT: VerdictContext = {
  lans: null, sloppyTcp: null, expireQuiescentTemplate: null, syncDaemons: null, others: null, health: {},
};

export function healthKey(service: ServiceRules['key'], dest: Pick<DestinationSpec, 'family' | 'address' | 'port'>): string {
  return `${serviceId(service)}|${destinationId(dest)}`;
}

export interface Verdict {
  findings: VerdictFinding[];
  /** some finding is critical or a warning: applying needs an acknowledgement */
  flagged: boolean;
}

const ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

function canonical(s: ServiceRules | undefined): string {
  if (!s) return '';
  const dests = [...s.destinations].sort((a, b) => (destinationId(a) < destinationId(b) ? -1 : 1));
  return JSON.stringify({ ...s, destinations: dests });
}

interface Touched {
  before: ServiceRules | undefined;
  after: ServiceRules;
  label: string;
}

/** The services the change creates or changes, as they would be. */
function touched(live: readonly ServiceRules[], desired: readonly ServiceRules[]): Touched[] {
  const byId = new Map(live.map((s) => [serviceId(s.key), s]));
  const out: Touched[] = [];
  for (const after of desired) {
    const before = byId.get(serviceId(after.key));
    if (before && canonical(before) === canonical(after)) continue;
    out.push({ before, after, label: formatServiceKey(after.key) });
  }
  return out;
}

function destIn(s: ServiceRules | undefined, d: DestinationSpec): DestinationSpec | undefined {
  const id = destinationId(d);
  return s?.destinations.find((x) => destinationId(x) === id);
}

type Rule = (t: Touched[], ctx: VerdictContext) => VerdictFinding[];

/** DR rewrites only the MAC: the real server must be on the VIP's LAN (or at least on one the director is on). */
const drSubnet: Rule = (list, ctx) => {
  if (!ctx.lans || ctx.lans.length === 0) return [];
  const lans = ctx.lans;
  const out: VerdictFinding[] = [];
  for (const t of list) {
    const k = t.after.key;
    const vipLan = k.kind !== 'fwmark' && k.family === 'inet' ? lans.find((l) => inPrefix(k.address, l.address, l.prefix)) : undefined;
    for (const d of t.after.destinations) {
      if (d.forward !== 'dr' || d.family !== 'inet') continue;
      const was = destIn(t.before, d);
      if (was && was.forward === 'dr') continue; // not this change's doing
      const onLan = vipLan ? inPrefix(d.address, vipLan.address, vipLan.prefix) : lans.some((l) => inPrefix(d.address, l.address, l.prefix));
      if (onLan) continue;
      out.push({
        rule: 'dr-subnet', severity: 'critical', subject: `${formatDestination(d)} in ${t.label}`,
        title: vipLan
          ? `DR real server ${d.address} is not on the VIP's LAN ${vipLan.address}/${vipLan.prefix}`
          : `DR real server ${d.address} is on none of the director's LANs`,
        why: 'Direct routing only rewrites the destination MAC address, so the real server must be reachable on the same link '
          + 'as the director. Across a router the packets go to the router, not to the real server: every connection to it fails.',
      });
    }
  }
  return out;
};

const mhSloppy: Rule = (list, ctx) => {
  if (ctx.sloppyTcp !== 0 || ctx.syncDaemons === null || ctx.syncDaemons > 0) return [];
  return list.filter((t) => t.after.scheduler === 'mh' && (t.after.key.kind === 'fwmark' || t.after.key.protocol === 'tcp')
    && t.before?.scheduler !== 'mh').map((t) => ({
    rule: 'mh-sloppy' as const, severity: 'warning' as const, subject: t.label,
    title: `${t.label} would use mh while connections are not synced and sloppy_tcp is 0`,
    why: 'Maglev hashing lets another director take over a flow and send it to the same real server, but without connection '
      + 'sync the new director has no entry for it, and with net.ipv4.vs.sloppy_tcp=0 it only schedules on a SYN: every '
      + 'established connection that moves is dropped. Set sloppy_tcp=1 or run the sync daemon.',
  }));
};

const vipElsewhere: Rule = (list, ctx) => {
  if (!ctx.others) return [];
  const out: VerdictFinding[] = [];
  for (const t of list) {
    const k = t.after.key;
    if (t.before || k.kind === 'fwmark') continue;
    for (const o of ctx.others) {
      if (!o.vips.includes(k.address)) continue;
      out.push({
        rule: 'vip-elsewhere', severity: 'critical', subject: t.label,
        title: `VIP ${k.address} is already served by director ${o.director}`,
        why: 'Two directors answering for one VIP split its clients by whichever ARP answer wins, and flip them back and forth: '
          + 'connections break at random. Move the VIP (or hand it over with HA), do not add it twice.',
      });
    }
  }
  return out;
};

function healthOf(ctx: VerdictContext, t: Touched, d: DestinationSpec): RealServerHealth {
  return ctx.health[healthKey(t.after.key, d)] ?? 'unknown';
}

/** A real server that takes new connections and is not known to be failing. */
function serving(ctx: VerdictContext, t: Touched, d: DestinationSpec): boolean {
  const h = healthOf(ctx, t, d);
  return d.weight > 0 && h !== 'down' && h !== 'maintenance';
}

const lastHealthy: Rule = (list, ctx) => {
  const out: VerdictFinding[] = [];
  for (const t of list) {
    if (!t.before) continue;
    const was = t.before.destinations.filter((d) => serving(ctx, t, d));
    if (was.length === 0) continue;
    if (t.after.destinations.some((d) => serving(ctx, t, d))) continue;
    out.push({
      rule: 'last-healthy', severity: 'critical', subject: t.label,
      title: `${t.label} would be left with no healthy real server taking connections`,
      why: `It has ${was.length} now (${was.map((d) => formatDestination(d)).join(', ')}); after the change every real server is gone, `
        + 'at weight 0 or failing its health check, so new connections to the VIP are refused.',
    });
  }
  return out;
};

const weight0Persistence: Rule = (list, ctx) => {
  if (ctx.expireQuiescentTemplate === 1) return [];
  const out: VerdictFinding[] = [];
  for (const t of list) {
    if (!t.after.flags.persistent) continue;
    for (const d of t.after.destinations) {
      if (d.weight !== 0) continue;
      const was = destIn(t.before, d);
      if (was && was.weight === 0 && t.before?.flags.persistent) continue;
      out.push({
        rule: 'weight0-persistence', severity: 'warning', subject: `${formatDestination(d)} in ${t.label}`,
        title: `${d.address} would be at weight 0 in a persistent service`,
        why: `Clients with a persistence template (up to ${t.after.timeout} s) keep being sent to a weight-0 real server `
          + `until the template expires${ctx.expireQuiescentTemplate === 0 ? ', because net.ipv4.vs.expire_quiescent_template is 0' : ''}: `
          + 'it does not drain. Set expire_quiescent_template=1, or remove the server when it must stop at once.',
      });
    }
  }
  return out;
};

const RULES: Rule[] = [drSubnet, mhSloppy, vipElsewhere, lastHealthy, weight0Persistence];

/** The findings on `desired` (the table as the change would leave it) against `live`, worst first. */
export function judgeChange(live: readonly ServiceRules[], desired: readonly ServiceRules[], ctx: VerdictContext): Verdict {
  const list = touched(live, desired);
  const findings = RULES.flatMap((r) => r(list, ctx)).sort((a, b) => ORDER[a.severity] - ORDER[b.severity]);
  return { findings, flagged: findings.some((f) => f.severity !== 'info') };
}
