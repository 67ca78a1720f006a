/**
 * The agent's HA controller: keepalived as a child steered through track
 * files, a ZooKeeper lease per VIP group, the IPVS sync daemon's role, and the
 * desired table shared through ZooKeeper. Every event and a 250 ms tick run
 * the pure decision (lib/ha/decide) per group and carry out its result.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { decide, initialMemo, type DecideInput, type DecideMemo, type MemberView } from '@/lib/ha/decide';
import { checkVrrpConfig, formatVrrpConfig, vrrpPaths, type NotifyEvent } from '@/lib/ha/vrrp-conf';
import { leaseDataSchema, memberDataSchema, readJson, writeJson, zkPaths } from '@/lib/ha/zk-layout';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import type { SyncDaemon } from '@/lib/ipvs/model';
import type { HaConfig, HaGroupStatus, HaStatus, HaTransition, VrrpGroup, VrrpState } from '@/lib/schemas/ha';
import { dnsAnswer } from '@/lib/ha/dns-answer';
import { DnsPublisher } from './dns-publisher';
import { HeartbeatProbe } from './heartbeat';
import { KernelAddresses } from './addresses';
import { KeepalivedManager, writeTrackFile } from './keepalived';
import { loadHaSecrets, type HaSecrets } from './secrets';
import { HaPreconditionError, HaUnavailableError, type HaService } from './service';
import type { TableSync } from './table-sync';
import { listRegistry, type Registration } from './registry';
import type { RegistryListing } from '@/lib/enroll/registry';
import { isNodeExists, isNoNode, ZkSession } from './zookeeper';
import { loadZkTls, ZkTlsForwarder } from './zk-tls';

export const TICK_MS = 250;
const MAX_TRANSITIONS = 200;
const KEEPALIVED_RESTART_MS = 1000;

interface GroupRt {
  cfg: VrrpGroup;
  memo: DecideMemo;
  vrrpState: VrrpState;
  vipsPresent: string[];
  /** lease holder as read from ZooKeeper; "<name> (old session)" for a lease of a session that is not ours */
  holder: string | null;
  /** that lease's identity (holder and creation time): a new lease of the same holder is another one */
  leaseId: string | null;
  members: MemberView[];
  handover: boolean;
  written: { fence: number | null; lease: number | null };
  memberJson: string | null;
  memberGeneration: number;
  why: string;
}

export interface HaControllerDeps {
  config: HaConfig;
  backend: IpvsBackend;
  log: Logger;
  /** where keepalived's files go (config.runDir wins) */
  runDir: string;
  /** the agent's state folder: the HA secrets' paths in the config are relative to it (default: runDir's parent) */
  stateDir?: string;
  table?: TableSync | null;
  /** this agent's entry in the ZooKeeper registry of directors to enroll (only when it serves TLS) */
  registration?: Registration | null;
  /** for tests: a stand-in for keepalived's binary path etc. are in config */
  fetchPeer?: (url: string, token: string | null, signal: AbortSignal) => Promise<unknown>;
}

async function defaultFetchPeer(url: string, token: string | null, signal: AbortSignal): Promise<unknown> {
  const res = await fetch(`${url.replace(/\/+$/, '')}/trpc/ha.status`, {
    headers: token ? { authorization: `Bearer ${token}` } : {}, signal,
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = (await res.json()) as { result?: { data?: unknown } };
  return body.result?.data;
}

/** What the controller keeps of its last round of asking peers (see askPeers). */
interface PeerAnswers {
  at: number;
  anyConnected: boolean;
  detail: string;
  /** groups that a peer connected to ZooKeeper is VRRP master of, holds the lease of, or has VIPs of; null: some connected peer's answer did not say */
  claims: string[] | null;
}

type PeerStatus = { zookeeper?: { state?: string }; groups?: { name?: string; vrrpState?: string; leaseHolder?: string | null; vipsPresent?: unknown[] }[] };

/**
 * The groups a peer claims, from its ha.status: VRRP MASTER, the lease, or any VIP on its interface. Null when
 * its answer has no groups to read (another version): the caller then assumes it claims everything.
 */
export function peerClaims(director: string, st: PeerStatus | undefined): string[] | null {
  if (!st || !Array.isArray(st.groups)) return null;
  const out: string[] = [];
  for (const g of st.groups) {
    if (typeof g?.name !== 'string') return null;
    if (g.vrrpState === 'MASTER' || g.leaseHolder === director || (Array.isArray(g.vipsPresent) && g.vipsPresent.length > 0)) out.push(g.name);
  }
  return out;
}

/** The peers' answers as one group's decision sees them: whether a connected peer claims this group. */
function peersFor(p: PeerAnswers | null, group: string): DecideInput['peers'] {
  if (!p) return null;
  return { at: p.at, anyConnected: p.anyConnected, detail: p.detail, claimed: p.claims === null || p.claims.includes(group) };
}

/**
 * Two fence reasons that differ only in the figures they quote ("unreachable from here for 14352 ms" and
 * "... for 14405 ms"): the same reason still holding. Recording each made a transition every 250 ms for as
 * long as the fence lasted (the HA lab's timeline of a ZooKeeper outage showed 19 in 4.5 s).
 */
export function sameFenceReason(a: string | null | undefined, b: string | null | undefined): boolean {
  const bare = (r: string | null | undefined) => (r ?? '').replace(/\d+(\.\d+)? m?s\b/g, '#');
  return bare(a) === bare(b);
}

export class HaController implements HaService {
  readonly enabled = true;
  private readonly cfg: HaConfig;
  private readonly runDir: string;
  private readonly groups = new Map<string, GroupRt>();
  private readonly transitions: HaTransition[] = [];
  private readonly keepalived: KeepalivedManager;
  private readonly addrs = new KernelAddresses();
  private heartbeat: HeartbeatProbe | null = null;
  private readonly zk: ZkSession;
  private readonly paths: ReturnType<typeof zkPaths>;
  private maintenanceOn = false;
  /** maintenance asked: the DNS name stops offering this director's VIPs for dns.drainMs before they move */
  private draining = false;
  private readonly dns: DnsPublisher | null;
  private waiters = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private keepalivedError: string | null = null;
  /** per group: times this director entered MASTER since start (/metrics: director_ha_failovers_total) */
  private readonly becameMaster = new Map<string, number>();
  private peers: PeerAnswers | null = null;
  private askingPeers = false;
  private syncDaemons: SyncDaemon[] = [];
  private syncRoles: { master: boolean; backup: boolean } | null = null;
  private lastZkState: string;
  private statusCache: HaStatus | null = null;
  private secrets: HaSecrets | null = null;
  private zkTls: ZkTlsForwarder | null = null;

  constructor(private readonly d: HaControllerDeps) {
    this.cfg = d.config;
    this.runDir = d.config.runDir ?? d.runDir;
    this.paths = zkPaths(this.cfg.zkRoot);
    for (const g of this.cfg.groups) {
      this.groups.set(g.name, {
        cfg: g, memo: initialMemo(), vrrpState: 'UNKNOWN', vipsPresent: [], holder: null, leaseId: null, members: [], handover: false,
        written: { fence: null, lease: null }, memberJson: null, memberGeneration: -1, why: 'starting',
      });
    }
    this.keepalived = new KeepalivedManager({
      binary: this.cfg.keepalivedPath, runDir: this.runDir, log: d.log,
      events: { onNotify: (e) => this.onNotify(e), onExit: (x) => this.onKeepalivedExit(x) },
    });
    this.zk = new ZkSession({
      connect: this.cfg.zookeeper, sessionTimeoutMs: this.cfg.sessionTimeoutMs, log: d.log,
      onChange: () => this.onZkChange(),
    });
    this.lastZkState = this.zk.state;
    this.dns = this.cfg.dns ? new DnsPublisher(this.cfg.dns, () => this.changed_()) : null;
  }

  /** the table key, once start() has read it (TableSync asks for it at each use) */
  tableKey(): Buffer | null {
    return this.secrets?.tableKey ?? null;
  }

  /** for TableSync: a line in the transitions */
  recordTable(kind: HaTransition['kind'], from: string | null, to: string, reason: string): void {
    this.record('*', kind, from, to, reason);
  }

  /** something outside the loop changed (table replication): refresh the status */
  poke(): void {
    this.changed_();
  }

  get director(): string {
    return this.cfg.director;
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    const problems = checkVrrpConfig(this.cfg);
    if (problems.length) throw new Error(`HA config: ${problems.join('; ')}`);
    // before anything else: without its credentials and table key a director must not take part
    this.secrets = await loadHaSecrets(this.cfg, this.d.stateDir ?? path.dirname(this.runDir));
    this.zk.setAuth(this.secrets.zk);
    if (this.cfg.tls) {
      // the client speaks plain TCP: it reaches ZooKeeper through local listeners that add TLS
      const material = await loadZkTls(this.cfg.tls, this.d.stateDir ?? path.dirname(this.runDir));
      this.zkTls = new ZkTlsForwarder({ material, log: this.d.log, onStatus: (e) => this.zk.transportStatus(e) });
      this.zk.setConnect(await this.zkTls.start(this.cfg.zookeeper));
    }
    await mkdir(this.runDir, { recursive: true, mode: 0o700 });
    this.maintenanceOn = await readFile(path.join(this.runDir, 'maintenance'), 'utf8').then(() => true, () => false);
    const left = await this.keepalived.killLeftover();
    if (left.length) this.record('*', 'keepalived', null, 'STOP', `stopped keepalived left by an earlier run (pid ${left.join(', ')})`);
    // start-up fencing: a SIGKILLed keepalived leaves its VIPs behind, and this director holds no lease yet
    for (const g of this.groups.values()) {
      for (const vip of g.cfg.vips) {
        if (await this.addrs.remove(g.cfg.interface, vip)) {
          this.record(g.cfg.name, 'fence', vip, 'removed', `removed ${vip} from ${g.cfg.interface} at start: this director holds no lease yet`);
        }
      }
      const p = vrrpPaths(this.runDir);
      await writeTrackFile(p.fenceFile(g.cfg.name), 1);
      await writeTrackFile(p.leaseFile(g.cfg.name), 0);
      g.written = { fence: 1, lease: 0 };
    }
    await this.keepalived.writeConfig(formatVrrpConfig(this.cfg, this.runDir));
    await this.startKeepalived();
    this.zk.start();
    const hb = this.cfg.groups.find((g) => g.unicastSourceIp && g.unicastPeers.length > 0);
    if (hb?.unicastSourceIp) {
      this.heartbeat = new HeartbeatProbe({
        source: hb.unicastSourceIp, peers: hb.unicastPeers, director: this.cfg.director,
        onError: (e) => this.d.log.warn({ err: e }, 'heartbeat probe'),
      });
      try { this.heartbeat.start(); } catch (e) { this.d.log.warn({ err: e }, 'heartbeat probe did not start'); this.heartbeat = null; }
    }
    this.timer = setInterval(() => this.kick(), TICK_MS);
    this.kick();
  }

  private async startKeepalived(): Promise<void> {
    try {
      await this.keepalived.start();
      this.keepalivedError = null;
      this.record('*', 'keepalived', null, 'running', `keepalived started (pid ${this.keepalived.pid})`);
    } catch (e) {
      this.keepalivedError = `cannot start ${this.cfg.keepalivedPath}: ${(e as Error).message}`;
      this.d.log.error({ err: e }, 'keepalived did not start');
      this.changed_();
    }
  }

  /** Graceful stop: keepalived first (its priority-0 advert hands the VIPs over at once), then the leases. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    // keepalived first: its priority-0 advert lets the peer take the VIPs at once (releasing the
    // lease first took seconds on a busy director, with the VIPs still here); the peer's grace
    // covers the moment until the lease is released just after
    await this.keepalived.stop();
    this.keepalived.close();
    // a tick in flight (ZooKeeper reads, sync daemon) may still write track files: harmless now
    await this.ticking?.catch(() => {});
    for (const g of this.groups.values()) {
      if (this.zk.state === 'connected') await this.releaseLease(g, 'agent stopping').catch(() => {});
    }
    await this.d.registration?.close();
    // closing the session removes our ephemeral member znodes (and the registry entry) at once
    this.zk.close();
    this.zkTls?.close();
    this.heartbeat?.close();
    this.dns?.close();
    this.d.table?.close();
    this.addrs.close();
    this.changed_();
  }

  counts(): { failovers: Record<string, number> } {
    return { failovers: Object.fromEntries(this.becameMaster) };
  }

  // ---------------------------------------------------------------- events

  private onNotify(e: NotifyEvent): void {
    if (e.kind !== 'instance' || e.group === null) return;
    const g = this.groups.get(e.group);
    if (!g || g.vrrpState === e.state) return;
    const from = g.vrrpState;
    g.vrrpState = e.state;
    if (e.state === 'MASTER') this.becameMaster.set(g.cfg.name, (this.becameMaster.get(g.cfg.name) ?? 0) + 1);
    const why = e.state === 'FAULT' && g.memo.fenced ? `fenced: ${g.memo.fenceReason}` : `keepalived reports ${e.state} (priority ${e.priority})`;
    this.record(g.cfg.name, 'vrrp', from, e.state, why);
    this.kick();
  }

  private onKeepalivedExit(x: { code: number | null; signal: string | null; lastLines: string[] }): void {
    for (const g of this.groups.values()) g.vrrpState = 'STOP';
    if (this.stopped || this.keepalived.isStopping) return;
    this.keepalivedError = `keepalived exited (${x.signal ?? `code ${x.code}`})${x.lastLines.length ? `: ${x.lastLines.at(-1)}` : ''}`;
    this.record('*', 'keepalived', 'running', 'STOP', `${this.keepalivedError}; restarting in ${KEEPALIVED_RESTART_MS} ms`);
    setTimeout(() => { if (!this.stopped) void this.startKeepalived(); }, KEEPALIVED_RESTART_MS);
    this.kick();
  }

  private onZkChange(): void {
    if (this.zk.state !== this.lastZkState) {
      this.record('*', 'zookeeper', this.lastZkState, this.zk.state, this.zk.message ?? `ZooKeeper session ${this.zk.state}`);
      this.lastZkState = this.zk.state;
    }
    this.kick();
  }

  // ---------------------------------------------------------------- the loop

  /** Run a tick now, or right after the one running. */
  private kick(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick()
      .catch((e: unknown) => this.d.log.error({ err: e }, 'HA tick failed'))
      .finally(() => {
        this.ticking = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async tick(): Promise<void> {
    const connected = this.zk.state === 'connected';
    const zkState = this.zk.state;
    let askPeers = false;
    for (const g of this.groups.values()) {
      g.vipsPresent = await this.addrs.present(g.cfg.interface, g.cfg.vips).catch(() => g.vipsPresent);
      if (connected) await this.readZk(g).catch((e: unknown) => this.d.log.warn({ err: e, group: g.cfg.name }, 'ZooKeeper read failed'));
      const before = g.memo;
      const dec = decide({
        now: Date.now(), me: this.cfg.director, myPriority: g.cfg.priority, sessionTimeoutMs: this.cfg.sessionTimeoutMs,
        zk: { state: zkState, since: this.zk.since }, holder: connected ? g.holder : null, leaseId: connected ? g.leaseId : null, vrrpState: g.vrrpState,
        vipsPresent: g.vipsPresent.length > 0, peers: peersFor(this.peers, g.cfg.name), maintenance: this.maintenanceOn, handover: g.handover,
        members: g.members, heartbeat: this.heartbeat?.read() ?? null,
      }, g.memo);
      g.handover = false;
      g.memo = dec.memo;
      g.why = dec.why;
      askPeers ||= dec.askPeers;
      await this.carryOut(g, before, dec.lease);
    }
    if (zkState === 'expired') for (const g of this.groups.values()) g.memberGeneration = -1;
    if (askPeers) this.askPeers();
    await this.applySyncRole();
    if (connected) await this.publishDns();
    this.d.table?.attach(this.zk);
    this.d.registration?.attach(this.zk);
    this.changed_();
  }

  private async readZk(g: GroupRt): Promise<void> {
    const name = g.cfg.name;
    if (g.memberGeneration !== this.zk.generation) {
      await this.zk.mkdirp(this.paths.members(name));
      g.memberGeneration = this.zk.generation;
      g.memberJson = null;
    }
    const lease = await this.zk.get(this.paths.lease(name));
    if (lease === null) {
      g.holder = null;
      g.leaseId = null;
    } else {
      const data = readJson(leaseDataSchema, lease.data);
      const who = data?.director ?? 'unknown';
      g.leaseId = `${who}@${data?.since ?? lease.stat.version}`;
      // a lease of this director's previous session (agent restarted, or a new session after a ZooKeeper
      // outage) is nobody else's: treat it as free; creating ours fails until it expires
      g.holder = this.zk.ownedByMe(lease.stat) ? this.cfg.director : who === this.cfg.director ? null : who;
      if (g.holder === null) g.leaseId = null;
    }
    const members: MemberView[] = [];
    for (const child of await this.zk.children(this.paths.members(name))) {
      if (child === this.cfg.director) continue;
      const n = await this.zk.get(this.paths.member(name, child)).catch(() => null);
      const m = n ? readJson(memberDataSchema, n.data) : null;
      if (m) members.push({ director: child, priority: m.priority, preempt: m.preempt, maintenance: m.maintenance });
    }
    g.members = members;
    await this.publishMember(g);
  }

  private async publishMember(g: GroupRt): Promise<void> {
    const json = JSON.stringify({
      // draining counts: peers leave this director's VIPs out of the DNS answer from the moment it is asked
      priority: g.cfg.priority, preempt: g.cfg.preempt, maintenance: this.maintenanceOn || this.draining, vrrpState: g.vrrpState, vipsPresent: g.vipsPresent,
    });
    if (json === g.memberJson) return;
    const p = this.paths.member(g.cfg.name, this.cfg.director);
    const data = Buffer.from(json);
    const cur = await this.zk.get(p);
    if (cur && !this.zk.ownedByMe(cur.stat)) {
      // left by this director's previous session, which may not have expired yet
      await this.zk.remove(p, cur.stat.version).catch((e: unknown) => { if (!isNoNode(e)) throw e; });
    }
    if (cur && this.zk.ownedByMe(cur.stat)) await this.zk.set_(p, data, -1);
    else await this.zk.create(p, data, true);
    g.memberJson = json;
  }

  private async carryOut(g: GroupRt, before: DecideMemo, lease: 'acquire' | 'release' | null): Promise<void> {
    const m = g.memo;
    const p = vrrpPaths(this.runDir);
    const name = g.cfg.name;
    const fence = m.fenced ? 1 : 0;
    if (g.written.fence !== fence) {
      await writeTrackFile(p.fenceFile(name), fence);
      g.written.fence = fence;
    }
    if (before.fenced !== m.fenced || (m.fenced && !sameFenceReason(before.fenceReason, m.fenceReason))) {
      this.record(name, 'fence', before.fenced ? 'fenced' : 'unfenced', m.fenced ? 'fenced' : 'unfenced', m.fenced ? m.fenceReason ?? 'fenced' : g.why);
    }
    const bonus = m.leaseBonus ? 1 : 0;
    if (g.written.lease !== bonus) {
      await writeTrackFile(p.leaseFile(name), bonus);
      g.written.lease = bonus;
    }
    if (before.failStatic !== m.failStatic) {
      this.record(name, 'zookeeper', before.failStatic ? 'fail static' : null, m.failStatic ? 'fail static' : 'coordinated', g.why);
    }
    if (lease === 'acquire') await this.acquireLease(g);
    if (lease === 'release') await this.releaseLease(g, m.fenceReason ?? g.why);
  }

  private async acquireLease(g: GroupRt): Promise<void> {
    const data = writeJson({ director: this.cfg.director, since: Date.now(), priority: g.cfg.priority });
    try {
      await this.zk.create(this.paths.lease(g.cfg.name), Buffer.from(data), true);
      const from = g.holder;
      g.holder = this.cfg.director;
      this.record(g.cfg.name, 'lease', from, this.cfg.director, `took the free lease: ${g.why}`);
      this.again = true;
    } catch (e) {
      if (!isNodeExists(e)) throw e; // someone was quicker: the next read shows who
    }
  }

  private async releaseLease(g: GroupRt, reason: string): Promise<void> {
    const p = this.paths.lease(g.cfg.name);
    const cur = await this.zk.get(p);
    if (!cur || !this.zk.ownedByMe(cur.stat)) return;
    await this.zk.remove(p, cur.stat.version).catch((e: unknown) => { if (!isNoNode(e)) throw e; });
    g.holder = null;
    this.record(g.cfg.name, 'lease', this.cfg.director, 'free', `released the lease: ${reason}`);
  }

  /**
   * The sync daemons follow the leases: master while this director holds a group (it sends its connections),
   * backup while another director may serve one (it receives theirs). With two groups held one each
   * (master-master) both run at once, which the kernel allows: connections are synced both ways.
   */
  private async applySyncRole(): Promise<void> {
    const sync = this.cfg.sync;
    if (!sync) return;
    const roles = [...this.groups.values()].map((g) => g.memo.syncRole);
    const want = { master: roles.includes('master'), backup: roles.includes('backup') };
    try {
      this.syncDaemons = await this.d.backend.listDaemons();
      if (!want.master && !want.backup) return;
      let changed = false;
      for (const state of ['master', 'backup'] as const) {
        const running = this.syncDaemons.find((x) => x.state === state);
        const ok = running && running.interface === sync.interface && running.syncId === sync.syncId;
        if (running && (!want[state] || !ok)) {
          await this.d.backend.stopDaemon(state);
          changed = true;
        }
        if (want[state] && !ok) {
          await this.d.backend.startDaemon({ state, interface: sync.interface, syncId: sync.syncId });
          changed = true;
        }
      }
      const before = this.syncRoles;
      if (changed || !before || before.master !== want.master || before.backup !== want.backup) {
        const words = (r: { master: boolean; backup: boolean } | null) => (r ? [r.master && 'master', r.backup && 'backup'].filter(Boolean).join(' + ') || 'none' : null);
        const held = [...this.groups.values()].filter((g) => g.memo.syncRole === 'master').map((g) => g.cfg.name);
        const why = [
          want.master ? `master (sends this director's connections): it holds ${held.join(', ')}` : null,
          want.backup ? `backup (receives the peer's connections)${want.master ? ' for the groups it does not hold' : ''}` : null,
        ].filter(Boolean).join('; ');
        this.record('*', 'sync', words(before), words(want)!, `sync daemon on ${sync.interface} (syncid ${sync.syncId}): ${why}`);
        this.syncDaemons = await this.d.backend.listDaemons();
      }
      this.syncRoles = want;
    } catch (e) {
      this.d.log.warn({ err: e }, 'sync daemon change failed');
    }
  }

  /**
   * The DNS answer from what ZooKeeper says (every connected director computes the same): the VIPs of the
   * groups whose lease holder is in service. Not while disconnected: the last answer stands (fail static).
   */
  private async publishDns(): Promise<void> {
    if (!this.dns) return;
    const me = this.cfg.director;
    const out = this.maintenanceOn || this.draining;
    const answerFrom = (holders: Map<string, string | null>) => dnsAnswer([...this.groups.values()].map((g) => {
      const holder = holders.get(g.cfg.name) ?? null;
      return {
        name: g.cfg.name, vips: g.cfg.vips, holder,
        holderOut: holder === me ? out : (g.members.find((m) => m.director === holder)?.maintenance ?? false),
      };
    }));
    let answer = answerFrom(new Map([...this.groups.values()].map((g) => [g.cfg.name, g.holder])));
    const current = await this.dns.current();
    if (answer.join() !== current.join()) {
      // A change: decide on the leases as they are now, not as this tick read them (a busy tick takes
      // hundreds of ms, and both directors write: a stale view would undo the peer's fresh answer).
      const fresh = new Map<string, string | null>();
      for (const g of this.groups.values()) {
        const lease = await this.zk.get(this.paths.lease(g.cfg.name));
        fresh.set(g.cfg.name, lease ? (readJson(leaseDataSchema, lease.data)?.director ?? null) : null);
      }
      answer = answerFrom(fresh);
    }
    const before = await this.dns.publish(answer);
    if (before) {
      const gone = before.filter((a) => !answer.includes(a));
      const came = answer.filter((a) => !before.includes(a));
      this.record('*', 'dns', before.join(', ') || 'nothing', answer.join(', ') || 'nothing',
        `${this.cfg.dns!.name} now answers ${answer.join(', ') || 'nothing'}${gone.length ? `; left out ${gone.join(', ')} (no master in service)` : ''}${came.length ? `; added ${came.join(', ')}` : ''}`);
    }
  }

  private askPeers(): void {
    if (this.askingPeers || (this.peers && Date.now() - this.peers.at < 1000)) return;
    if (this.cfg.peers.length === 0) {
      this.peers = { at: Date.now(), anyConnected: false, detail: 'no peers configured', claims: [] };
      return;
    }
    this.askingPeers = true;
    const fetchPeer = this.d.fetchPeer ?? defaultFetchPeer;
    void Promise.all(this.cfg.peers.map(async (peer) => {
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), 1000);
      try {
        const token = peer.token ?? (peer.tokenFile ? (await readFile(peer.tokenFile, 'utf8')).trim() : null);
        const st = (await fetchPeer(peer.url, token, ctl.signal)) as PeerStatus | undefined;
        const state = st?.zookeeper?.state ?? 'unknown';
        const claims = peerClaims(peer.director, st);
        const claimText = state !== 'connected' || claims === null ? ''
          : claims.length ? ` and claims ${claims.join(', ')}` : ' and claims no group (BACKUP, no lease, no VIPs)';
        return { connected: state === 'connected', claims, text: `${peer.director} ${state === 'connected' ? 'is connected to ZooKeeper' : `reports ZooKeeper ${state}`}${claimText}` };
      } catch (e) {
        return { connected: false, claims: null, text: `${peer.director} unreachable (${(e as Error).message})` };
      } finally {
        clearTimeout(timer);
      }
    })).then((answers) => {
      const connected = answers.filter((a) => a.connected);
      this.peers = {
        at: Date.now(), anyConnected: connected.length > 0, detail: answers.map((a) => a.text).join('; '),
        claims: connected.some((a) => a.claims === null) ? null : [...new Set(connected.flatMap((a) => a.claims!))],
      };
      this.askingPeers = false;
      this.kick();
    });
  }

  // ---------------------------------------------------------------- HaService

  private record(group: string, kind: HaTransition['kind'], from: string | null, to: string, reason: string): void {
    this.transitions.push({ at: Date.now(), group, kind, from, to, reason });
    if (this.transitions.length > MAX_TRANSITIONS) this.transitions.shift();
    this.d.log.info({ group, kind, from, to, reason }, 'HA transition');
    this.changed_();
  }

  private changed_(): void {
    const next = this.buildStatus();
    const same = this.statusCache !== null && JSON.stringify(this.statusCache) === JSON.stringify(next);
    this.statusCache = next;
    if (same) return;
    const w = this.waiters;
    this.waiters = new Set();
    for (const f of w) f();
  }

  private buildStatus(): HaStatus {
    const groups: HaGroupStatus[] = [...this.groups.values()].map((g) => ({
      name: g.cfg.name, vips: g.cfg.vips, virtualRouterId: g.cfg.virtualRouterId, priority: g.cfg.priority, preempt: g.cfg.preempt,
      vrrpState: g.vrrpState, vipsPresent: g.vipsPresent, leaseHolder: g.holder,
      fenced: g.memo.fenced, fenceReason: g.memo.fenceReason, maintenance: this.maintenanceOn,
    }));
    const failStatic = [...this.groups.values()].some((g) => g.memo.failStatic);
    const t = this.d.table;
    return {
      director: this.cfg.director,
      enabled: true,
      zookeeper: {
        state: this.zk.state, since: this.zk.since, sessionTimeoutMs: this.cfg.sessionTimeoutMs, failStatic,
        message: failStatic
          // the session's own reason (a TLS certificate refused) stays visible in fail static
          ? `ZooKeeper is unreachable for every director: fail static, keepalived alone decides (${this.peers?.detail ?? ''})${this.zk.message ? `; here: ${this.zk.message}` : ''}`
          : this.zk.message,
      },
      keepalived: { running: this.keepalived.running, pid: this.keepalived.pid, configPath: this.keepalived.confPath, lastError: this.keepalivedError },
      groups,
      heartbeat: this.heartbeat ? this.heartbeat.read() : null,
      syncDaemons: this.syncDaemons.map((x) => ({ state: x.state, interface: x.interface, syncId: x.syncId })),
      dns: this.dns ? { name: this.dns.cfg.name, server: this.dns.cfg.server, ...this.dns.state } : null,
      table: {
        appliedVersion: t?.appliedVersion ?? null, zkVersion: t?.zkVersion ?? null, lastError: t?.lastError ?? null,
        refused: t?.refused ?? null, held: t?.held ?? null,
      },
      transitions: [...this.transitions].reverse(),
    };
  }

  status(): HaStatus {
    return this.statusCache ?? this.buildStatus();
  }

  changed(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  async handover(group: string, by: string): Promise<HaStatus> {
    const g = this.groups.get(group);
    if (!g) throw new HaPreconditionError(`no VIP group '${group}' on ${this.cfg.director} (groups: ${[...this.groups.keys()].join(', ')})`);
    if (this.zk.state !== 'connected') throw new HaPreconditionError(`${this.cfg.director} is not connected to ZooKeeper (${this.zk.state}): a hand over needs the lease`);
    if (g.holder !== this.cfg.director) {
      throw new HaPreconditionError(`${this.cfg.director} does not hold the lease of group '${group}'${g.holder ? `; ${g.holder} does: hand over there` : ''}`);
    }
    g.handover = true;
    this.record(group, 'operator', null, 'handover', `hand over asked by ${by}`);
    this.kick();
    await this.ticking;
    return this.status();
  }

  async registry(): Promise<RegistryListing> {
    if (this.zk.state !== 'connected') throw new HaUnavailableError(`${this.cfg.director} is not connected to ZooKeeper (${this.zk.state}): the registry cannot be read`);
    return listRegistry(this.zk, this.cfg.zkRoot);
  }

  async confirmReplicated(seq: number, by: string): Promise<HaStatus> {
    if (!this.d.table) throw new HaPreconditionError(`${this.cfg.director} does not replicate its table`);
    await this.d.table.confirmHeld(seq, by);
    this.changed_();
    return this.status();
  }

  async maintenance(on: boolean, by: string): Promise<HaStatus> {
    if (on && !this.maintenanceOn && this.dns && !this.draining) {
      // first the name stops offering this director's VIPs (peers see it in the member znode), then they move
      this.draining = true;
      this.record('*', 'operator', 'in service', 'draining', `maintenance asked by ${by}: ${this.dns.cfg.name} leaves out this director's VIPs for ${this.dns.cfg.drainMs} ms before they move`);
      try {
        this.kick();
        await this.ticking;
        await new Promise((r) => setTimeout(r, this.dns!.cfg.drainMs));
      } finally {
        this.draining = false;
      }
    }
    if (this.maintenanceOn !== on) {
      this.maintenanceOn = on;
      const file = path.join(this.runDir, 'maintenance');
      // kept across agent restarts: a director in maintenance must not rejoin by being restarted
      if (on) await writeFile(file, `${by} ${new Date().toISOString()}\n`);
      else await rm(file, { force: true });
      this.record('*', 'operator', on ? 'in service' : 'maintenance', on ? 'maintenance' : 'in service', `maintenance ${on ? 'on' : 'off'} by ${by}`);
    }
    this.kick();
    await this.ticking;
    return this.status();
  }
}
