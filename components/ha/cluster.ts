/**
 * The HA panel's picture of a cluster of directors, computed from what each
 * director's agent reports (`ha.status` / `ha.onStatus`). Pure: the hook
 * feeds it, the view renders it, the tests pin it down.
 *
 * The VIPs' truth is each director's `vipsPresent` (read from the kernel by
 * its agent), not keepalived's belief (`vrrpState`): a killed keepalived
 * leaves its VIPs on the interface while reporting nothing.
 */
import { canonicalAddress } from '@/lib/net/ip';
import type { HaGroupStatus, HaStatus, HaTransition, VrrpState } from '@/lib/schemas/ha';

export interface DirectorRef {
  id: string;
  name: string;
}

/** What the console currently knows of one director's HA status. */
export type DirectorFeed =
  | { kind: 'loading' }
  | { kind: 'ok'; status: HaStatus; at: number }
  /** the agent did not answer: `last` is the last status it sent, if any (stale, not the kernel's present) */
  | { kind: 'unreachable'; error: string; since: number; last: HaStatus | null; lastAt: number | null };

/** "192.168.150.100/32" and "192.168.150.100" are the same VIP. */
export function vipAddress(v: string): string {
  const addr = v.split('/')[0]!.trim();
  return canonicalAddress(addr) ?? addr;
}

export interface SplitBrain {
  group: string;
  vip: string;
  directors: string[];
}

/**
 * VIPs present on more than one director at once. Only statuses read now
 * count: an unreachable director's last status says nothing about its kernel
 * today. A VIP present twice is an alarm whatever the groups' names say, so
 * the match is on the address across all groups.
 */
export function findSplitBrain(statuses: readonly HaStatus[]): SplitBrain[] {
  const seen = new Map<string, { group: string; directors: Set<string> }>();
  for (const s of statuses) {
    if (!s.enabled) continue;
    for (const g of s.groups) {
      for (const v of g.vipsPresent) {
        const vip = vipAddress(v);
        const e = seen.get(vip) ?? { group: g.name, directors: new Set<string>() };
        e.directors.add(s.director);
        seen.set(vip, e);
      }
    }
  }
  const out: SplitBrain[] = [];
  for (const [vip, e] of seen) {
    if (e.directors.size > 1) out.push({ group: e.group, vip, directors: [...e.directors].sort() });
  }
  return out.sort((a, b) => a.group.localeCompare(b.group) || a.vip.localeCompare(b.vip));
}

/** Keeps the first time each key was seen while it stays present (how long an alarm has lasted). */
export function carrySince(prev: ReadonlyMap<string, number>, keys: readonly string[], now: number): Map<string, number> {
  const next = new Map<string, number>();
  for (const k of keys) next.set(k, prev.get(k) ?? now);
  return next;
}

export const splitBrainKey = (s: SplitBrain) => `${s.vip} ${s.directors.join(',')}`;

export type AlarmTone = 'danger' | 'warn';
export interface Alarm {
  id: string;
  tone: AlarmTone;
  title: string;
  detail: string;
  since: number | null;
}

export interface MemberRow {
  director: string;
  name: string;
  /** false: the agent does not answer and the row shows its last status */
  reachable: boolean;
  vrrpState: VrrpState;
  priority: number;
  preempt: boolean;
  vipsPresent: string[];
  fenced: boolean;
  fenceReason: string | null;
  maintenance: boolean;
  /** the lease holder as this director sees it */
  leaseHolderSeen: string | null;
  zkConnected: boolean;
}

export interface VipRow {
  vip: string;
  /** reachable directors on which the kernel has the VIP */
  holders: string[];
  /** unreachable directors whose last status had the VIP: they may still hold it */
  maybe: string[];
}

export interface GroupView {
  name: string;
  virtualRouterId: number;
  /** every member's preempt setting, or 'mixed' when they differ (a configuration mistake) */
  preempt: boolean | 'mixed';
  vips: VipRow[];
  members: MemberRow[];
  /** the lease holder according to the directors connected to ZooKeeper (null: nobody holds it) */
  leaseHolder: string | null;
  /** true when connected directors name different holders, or the holder comes only from stale statuses */
  leaseUncertain: boolean;
  splitBrain: boolean;
}

export interface DirectorCard {
  ref: DirectorRef;
  feed: DirectorFeed['kind'];
  /** status on screen (current, or last known when unreachable) */
  status: HaStatus | null;
  error: string | null;
  /** ms since the status on screen was received (null: current or none) */
  staleSince: number | null;
  maintenance: boolean;
}

export type TimelineItem = HaTransition & { director: string; key: string };

/**
 * One director holding the lease of every group (two or more) for longer than this: the fleet has no second
 * director serving (master-master) and a failover should have been over well before (3 s goal).
 */
export const ALL_HELD_ALARM_MS = 5000;

export interface AllHeld {
  director: string;
  groups: string[];
  /** since when, from the lease transitions (or the page's first sighting); null: not known yet */
  since: number | null;
}

/** The DNS name in front of the directors, as the freshest answering director last resolved it. */
export interface DnsView {
  name: string;
  server: string;
  /** null: no director could ask the server */
  resolved: string[] | null;
  resolvedAt: number | null;
  /** what the records say, as the director that asked last wrote or read them */
  published: string[];
  publishedAt: number | null;
  error: string | null;
  /** the director whose view this is */
  from: string;
}

export interface ClusterView {
  cards: DirectorCard[];
  groups: GroupView[];
  alarms: Alarm[];
  splitBrain: SplitBrain[];
  timeline: TimelineItem[];
  /** directors whose agent answers but has no HA configuration */
  notConfigured: DirectorRef[];
  loading: boolean;
  dns: DnsView | null;
  /** one director holds every group's lease (two groups or more) */
  allHeld: AllHeld | null;
}

const statusOf = (f: DirectorFeed | undefined): HaStatus | null =>
  !f || f.kind === 'loading' ? null : f.kind === 'ok' ? f.status : f.last;

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min` : `${Math.floor(s / 3600)} h`;
}

function listNames(ids: readonly string[], names: ReadonlyMap<string, string>): string {
  const n = ids.map((i) => names.get(i) ?? i);
  return n.length <= 1 ? (n[0] ?? '') : `${n.slice(0, -1).join(', ')} and ${n.at(-1)}`;
}

export function buildClusterView(
  directors: readonly DirectorRef[],
  feeds: Readonly<Record<string, DirectorFeed | undefined>>,
  now: number,
  alarmSince: ReadonlyMap<string, number> = new Map(),
  timelineLimit = 60,
): ClusterView {
  const names = new Map(directors.map((d) => [d.id, d.name]));
  const cards: DirectorCard[] = directors.map((ref) => {
    const f = feeds[ref.id] ?? { kind: 'loading' as const };
    const status = statusOf(f);
    return {
      ref,
      feed: f.kind,
      status,
      error: f.kind === 'unreachable' ? f.error : null,
      staleSince: f.kind === 'unreachable' && f.lastAt !== null ? now - f.lastAt : null,
      maintenance: status?.groups.some((g) => g.maintenance) ?? false,
    };
  });
  const live = cards.filter((c) => c.feed === 'ok' && c.status?.enabled).map((c) => c.status!);
  const stale = cards.filter((c) => c.feed === 'unreachable' && c.status?.enabled).map((c) => c.status!);
  const notConfigured = cards.filter((c) => c.feed === 'ok' && c.status && !c.status.enabled).map((c) => c.ref);

  // Groups in the order the first director lists them; members in the console's director order.
  const groupNames: string[] = [];
  for (const s of [...live, ...stale]) for (const g of s.groups) if (!groupNames.includes(g.name)) groupNames.push(g.name);

  const split = findSplitBrain(live);
  const splitVips = new Set(split.map((s) => s.vip));
  const groups: GroupView[] = groupNames.map((name) => {
    const rows: Array<{ s: HaStatus; g: HaGroupStatus; reachable: boolean }> = [];
    for (const c of cards) {
      const g = c.status?.enabled ? c.status.groups.find((x) => x.name === name) : undefined;
      if (c.status && g) rows.push({ s: c.status, g, reachable: c.feed === 'ok' });
    }
    const members: MemberRow[] = rows.map(({ s, g, reachable }) => ({
      director: s.director,
      name: names.get(s.director) ?? s.director,
      reachable,
      vrrpState: g.vrrpState,
      priority: g.priority,
      preempt: g.preempt,
      vipsPresent: g.vipsPresent.map(vipAddress),
      fenced: g.fenced,
      fenceReason: g.fenceReason,
      maintenance: g.maintenance,
      leaseHolderSeen: g.leaseHolder,
      zkConnected: s.zookeeper.state === 'connected',
    }));
    const vipList: string[] = [];
    for (const { g } of rows) for (const v of g.vips) if (!vipList.includes(vipAddress(v))) vipList.push(vipAddress(v));
    const vips: VipRow[] = vipList.map((vip) => ({
      vip,
      holders: members.filter((m) => m.reachable && m.vipsPresent.includes(vip)).map((m) => m.director),
      maybe: members.filter((m) => !m.reachable && m.vipsPresent.includes(vip)).map((m) => m.director),
    }));
    const connectedViews = members.filter((m) => m.reachable && m.zkConnected).map((m) => m.leaseHolderSeen);
    const distinct = [...new Set(connectedViews)];
    const fallback = members.find((m) => m.leaseHolderSeen !== null)?.leaseHolderSeen ?? null;
    const leaseHolder = distinct.length > 0 ? (distinct.find((x) => x !== null) ?? null) : fallback;
    const prefs = [...new Set(members.map((m) => m.preempt))];
    return {
      name,
      virtualRouterId: rows[0]?.g.virtualRouterId ?? 0,
      preempt: prefs.length === 1 ? prefs[0]! : 'mixed',
      vips,
      members,
      leaseHolder,
      leaseUncertain: distinct.length > 1 || (distinct.length === 0 && members.length > 0),
      splitBrain: vips.some((v) => splitVips.has(v.vip)),
    };
  });

  const dns = dnsView(live.length ? live : stale);
  const allHeld = allHeldBy(groups, [...live, ...stale], alarmSince);

  const alarms: Alarm[] = [];
  if (allHeld && allHeld.since !== null && now - allHeld.since >= ALL_HELD_ALARM_MS) {
    const others = cards.filter((c) => c.ref.id !== allHeld.director).map((c) => c.ref.id);
    alarms.push({
      id: allHeldKey(allHeld),
      tone: 'danger',
      title: `${names.get(allHeld.director) ?? allHeld.director} holds every VIP group (${allHeld.groups.join(', ')})`,
      detail: `For longer than a failover takes (${ALL_HELD_ALARM_MS / 1000} s): ${others.length ? listNames(others, names) : 'the other director'} serves no group, `
        + 'so one more failure takes every VIP down. Bring the other director back, then hand its group over to it (or let preempt do it).',
      since: allHeld.since,
    });
  }
  for (const s of split) {
    const key = `split ${splitBrainKey(s)}`;
    alarms.push({
      id: key,
      tone: 'danger',
      title: `Split brain: ${s.vip} is on ${listNames(s.directors, names)} at once`,
      detail: 'Two directors answer ARP for the same VIP, so clients and real servers reach either one and connections break. '
        + 'Director fences the one without the ZooKeeper lease within the session timeout; if this alarm stays, put one director in maintenance.',
      since: alarmSince.get(key) ?? null,
    });
  }
  for (const c of cards) {
    if (c.feed !== 'unreachable') continue;
    const held = c.status?.groups.flatMap((g) => g.vipsPresent.map(vipAddress)) ?? [];
    alarms.push({
      id: `unreachable ${c.ref.id}`,
      tone: 'danger',
      title: `The agent of ${c.ref.name} does not answer`,
      detail: `${c.error ?? 'No answer.'} Its VRRP state and VIPs are unknown`
        + (c.staleSince !== null ? `; the status shown is ${ago(c.staleSince)} old` : '')
        + (held.length ? ` and had ${held.join(', ')} — its keepalived may still hold them.` : '.'),
      since: alarmSince.get(`unreachable ${c.ref.id}`) ?? null,
    });
  }
  const failing = live.filter((s) => s.zookeeper.failStatic);
  if (failing.length > 0) {
    const ids = failing.map((s) => s.director);
    alarms.push({
      id: `failstatic ${ids.join(',')}`,
      tone: 'danger',
      title: `ZooKeeper is unreachable: ${listNames(ids, names)} ${ids.length > 1 ? 'keep' : 'keeps'} serving as is (fail static)`,
      detail: 'Without ZooKeeper no director can take or check the lease: the current master keeps the VIPs, '
        + 'but a second failure (keepalived dying, the heartbeat path cut) is no longer protected against split brain. Bring ZooKeeper back.'
        + (failing[0]!.zookeeper.message ? ` (${failing[0]!.zookeeper.message})` : ''),
      since: Math.min(...failing.map((s) => s.zookeeper.since)),
    });
  }
  for (const s of live) {
    if (s.zookeeper.failStatic || s.zookeeper.state === 'connected' || s.zookeeper.state === 'disabled') continue;
    const fenced = s.groups.some((g) => g.fenced);
    alarms.push({
      id: `zk ${s.director}`,
      tone: 'warn',
      title: `${names.get(s.director) ?? s.director} is not connected to ZooKeeper (${s.zookeeper.state})`,
      detail: (fenced ? 'It is fenced and cannot hold the VIPs until it has a session again.' : 'It keeps its role until the session timeout, then fences itself if a peer still reaches ZooKeeper.')
        + (s.zookeeper.message ? ` ${s.zookeeper.message}` : ''),
      since: s.zookeeper.since,
    });
  }
  for (const g of groups) {
    const reachable = g.members.filter((m) => m.reachable);
    if (reachable.length === 0) continue;
    for (const v of g.vips) {
      if (v.holders.length === 0 && v.maybe.length === 0) {
        const key = `novip ${g.name} ${v.vip}`;
        alarms.push({
          id: key,
          tone: 'danger',
          title: `No director holds ${v.vip} (group ${g.name})`,
          detail: 'Clients of this VIP get no answer. During a failover this lasts about three VRRP adverts; if it stays, check the fence reasons below.',
          since: alarmSince.get(key) ?? null,
        });
      }
    }
    if (g.preempt === 'mixed') {
      alarms.push({ id: `preempt ${g.name}`, tone: 'warn', title: `Group ${g.name}: directors disagree on preempt`, detail: 'Set the same preempt value on every director of the group, or the roles flap after a recovery.', since: null });
    }
  }
  for (const s of live) {
    const n = names.get(s.director) ?? s.director;
    if (!s.keepalived.running || s.keepalived.lastError) {
      alarms.push({
        id: `keepalived ${s.director}`,
        tone: 'warn',
        title: `keepalived ${s.keepalived.running ? 'reports an error' : 'is not running'} on ${n}`,
        detail: s.keepalived.lastError ?? 'The agent restarts it; until then this director cannot become master.',
        since: null,
      });
    }
    if (s.table.refused) {
      alarms.push({ id: `table-refused ${s.director}`, tone: 'danger', title: `Replicated table refused on ${n}`, detail: `Nothing was applied: ${s.table.refused.reason}`, since: s.table.refused.at });
    }
    if (s.table.held) {
      alarms.push({
        id: `table-held ${s.director}`, tone: 'danger', title: `Replicated change held on ${n}`,
        detail: `${s.table.held.reason} (${s.table.held.removed.join(', ')}${s.table.held.removedCount > s.table.held.removed.length ? ', …' : ''}). Confirm it in ${n}'s panel if it is wanted.`,
        since: s.table.held.at,
      });
    }
    // With ZooKeeper away the fail-static or session alarm already says why nothing replicates.
    if (s.table.lastError && s.zookeeper.state === 'connected') {
      alarms.push({ id: `table ${s.director}`, tone: 'warn', title: `Table not replicated on ${n}`, detail: s.table.lastError, since: null });
    }
  }

  const timeline: TimelineItem[] = [];
  const keys = new Set<string>();
  for (const c of cards) {
    if (!c.status) continue;
    for (const t of c.status.transitions) {
      const key = `${c.ref.id} ${t.at} ${t.group} ${t.kind} ${t.to}`;
      if (keys.has(key)) continue;
      keys.add(key);
      timeline.push({ ...t, director: c.ref.id, key });
    }
  }
  timeline.sort((a, b) => b.at - a.at || a.director.localeCompare(b.director));

  return {
    cards,
    groups,
    alarms,
    splitBrain: split,
    timeline: timeline.slice(0, timelineLimit),
    notConfigured,
    loading: cards.some((c) => c.feed === 'loading'),
    dns,
    allHeld,
  };
}

const allHeldKey = (a: AllHeld) => `allheld ${a.director}`;

/** The director holding every group's lease, when one does (two groups or more, and no doubt about the holders). */
function allHeldBy(groups: readonly GroupView[], statuses: readonly HaStatus[], alarmSince: ReadonlyMap<string, number>): AllHeld | null {
  if (groups.length < 2) return null;
  const holder = groups[0]!.leaseHolder;
  if (holder === null || groups.some((g) => g.leaseHolder !== holder || g.leaseUncertain)) return null;
  // since the last of the groups came to it: each group's latest lease transition to the holder, as any director logged it
  let since: number | null = 0;
  for (const g of groups) {
    const at = Math.max(0, ...statuses.flatMap((s) => s.transitions.filter((t) => t.kind === 'lease' && t.group === g.name && t.to === holder).map((t) => t.at)));
    if (at === 0) { since = null; break; }
    since = Math.max(since!, at);
  }
  const a: AllHeld = { director: holder, groups: groups.map((g) => g.name), since: null };
  return { ...a, since: since ?? alarmSince.get(allHeldKey(a)) ?? null };
}

/** The freshest answer among the directors that have a DNS name configured. */
function dnsView(statuses: readonly HaStatus[]): DnsView | null {
  let best: DnsView | null = null;
  for (const s of statuses) {
    const d = s.dns;
    if (!d) continue;
    const v: DnsView = { name: d.name, server: d.server, resolved: d.resolved, resolvedAt: d.resolvedAt, published: d.published, publishedAt: d.publishedAt, error: d.error, from: s.director };
    if (!best || (v.resolvedAt ?? 0) > (best.resolvedAt ?? 0)) best = v;
  }
  return best;
}

/** Keys of the alarms whose duration the page tracks (split brain, unreachable agents, VIPs held by none). */
export function trackedAlarmKeys(directors: readonly DirectorRef[], feeds: Readonly<Record<string, DirectorFeed | undefined>>): string[] {
  const v = buildClusterView(directors, feeds, 0);
  const keys = v.alarms.map((a) => a.id).filter((id) => /^(split|unreachable|novip) /.test(id));
  // tracked from the first sighting, before it is old enough to be an alarm
  if (v.allHeld) keys.push(allHeldKey(v.allHeld));
  return keys;
}

export const VRRP_TONE: Record<VrrpState, 'ok' | 'accent' | 'danger' | 'warn' | 'neutral'> = {
  MASTER: 'ok',
  BACKUP: 'accent',
  FAULT: 'danger',
  STOP: 'warn',
  UNKNOWN: 'neutral',
};

/** The feed after a failed read: unreachable since the first failure, keeping the last status seen. */
export function feedAfterFailure(prev: DirectorFeed | undefined, error: string, at: number): DirectorFeed {
  if (prev?.kind === 'unreachable') return { ...prev, error };
  if (prev?.kind === 'ok') return { kind: 'unreachable', error, since: at, last: prev.status, lastAt: prev.at };
  return { kind: 'unreachable', error, since: at, last: null, lastAt: null };
}
