/**
 * Failover rehearsal (issue #26 item 8), run on the director that holds a
 * group's lease: pre-flight (lib/ha/rehearsal.ts), connection counts and,
 * in the lab, the traffic generator's counters before; the handover; wait
 * until the peer holds the lease with the VIPs and they left here; the
 * figures after. The handover back is the operator's, from the peer's
 * panel: this agent holds only the peer's viewer token, and the drill must
 * not need more. Reports are kept newest first in the state folder.
 */
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  addToHistory, connTotals, failedChecks, preflight, trafficDelta, REHEARSAL_HISTORY_MAX,
  type ConnCounts, type PeerView, type RehearsalReport, type TrafficCounts,
} from '@/lib/ha/rehearsal';
import { ConflictError } from '@/lib/errors';
import { haStatusSchema, type HaConfig, type HaStatus } from '@/lib/schemas/ha';
import { sleep } from '@/lib/sleep';
import type { HaService } from './service';

const FILE = 'ha-rehearsals.json';
/** a peer's status larger than this is not a status */
const PEER_BYTES_MAX = 1024 * 1024;

export interface RehearsalDeps {
  ha: HaService;
  log: Logger;
  /** null: history in memory only (tests) */
  stateDir: string | null;
  peers: HaConfig['peers'];
  /** IPVS active/inactive connection totals now */
  connections: () => Promise<ConnCounts>;
  /** the lab's traffic generator's counters (absent on a real director) */
  traffic?: (() => Promise<TrafficCounts | null>) | null;
  /** a peer's ha.status answer (raw; validated here) */
  fetchPeer?: (url: string, token: string | null, signal: AbortSignal) => Promise<unknown>;
  /** longest wait for the peer to take over */
  takeoverTimeoutMs?: number;
  /** after the takeover, how long failures may still show in the traffic counters (the generator publishes each second) */
  settleMs?: number;
  now?: () => number;
}

async function defaultFetchPeer(url: string, token: string | null, signal: AbortSignal): Promise<unknown> {
  const res = await fetch(`${url.replace(/\/+$/, '')}/trpc/ha.status`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const text = await res.text();
  if (text.length > PEER_BYTES_MAX) throw new Error(`answer larger than ${PEER_BYTES_MAX} bytes`);
  return (JSON.parse(text) as { result?: { data?: unknown } }).result?.data;
}

export class Rehearsals {
  private history: RehearsalReport[] = [];
  private current: RehearsalReport | null = null;
  private nextId = 1;

  private constructor(private readonly d: RehearsalDeps) {}

  static async open(d: RehearsalDeps): Promise<Rehearsals> {
    const r = new Rehearsals(d);
    if (d.stateDir) {
      try {
        const parsed: unknown = JSON.parse(await readFile(path.join(d.stateDir, FILE), 'utf8'));
        if (Array.isArray(parsed)) {
          r.history = (parsed as RehearsalReport[]).filter((x) => typeof x?.id === 'number' && typeof x.at === 'number').slice(0, REHEARSAL_HISTORY_MAX);
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') d.log.warn({ err: e }, `rehearsal history ${FILE} unreadable: starting empty`);
      }
      r.nextId = Math.max(0, ...r.history.map((x) => x.id)) + 1;
    }
    return r;
  }

  /** the drill under way (its steps so far) and the kept reports, newest first */
  list(): { running: RehearsalReport | null; history: RehearsalReport[] } {
    return { running: this.current ? structuredClone(this.current) : null, history: this.history };
  }

  async run(group: string, by: string): Promise<RehearsalReport> {
    if (this.current) throw new ConflictError(`a rehearsal is under way (started by ${this.current.by}); wait for its report`);
    const now = this.d.now ?? Date.now;
    const self = this.d.ha.status();
    const r: RehearsalReport = {
      id: this.nextId++, at: now(), by, director: self.director, group, result: 'not-ready', reason: null, preflight: [],
      newHolder: null, failoverMs: null, failedRequests: null, okRequests: null, connectionsBefore: null, connectionsAfter: null,
      handback: 'not needed: the lease did not move', steps: [],
    };
    this.current = r;
    const step = (s: string) => { r.steps.push({ at: now(), step: s }); };
    this.d.log.info({ by, group }, `failover rehearsal of ${group} started by ${by}`);
    try {
      step('pre-flight');
      r.preflight = preflight(group, self, await this.peerViews());
      const why = failedChecks(r.preflight);
      if (why) {
        r.reason = why;
        return r;
      }
      r.connectionsBefore = await this.d.connections();
      const trafficBefore = this.d.traffic ? await this.d.traffic() : null;
      step('handover');
      const t0 = now();
      // the transition it records says this was a drill, and who ran it
      await this.d.ha.handover(group, `${by} (failover rehearsal)`);
      const holder = await this.waitTakeover(group, self.director);
      if (!holder) {
        r.result = 'failed';
        r.reason = `no peer held ${group}'s lease with its VIPs within ${(this.takeoverMs() / 1000).toFixed(0)} s`;
      } else {
        r.newHolder = holder;
        r.failoverMs = now() - t0;
        r.result = 'ready';
        r.handback = `hand ${group} back from ${holder}'s HA panel (Hand over): this agent holds only a viewer token for its peers`;
      }
      step('measure');
      await sleep(this.d.settleMs ?? 3000);
      r.connectionsAfter = await this.d.connections();
      const delta = trafficDelta(trafficBefore, this.d.traffic ? await this.d.traffic() : null);
      r.failedRequests = delta?.failed ?? null;
      r.okRequests = delta?.ok ?? null;
      return r;
    } catch (e) {
      r.result = 'failed';
      r.reason = (e as Error).message;
      return r;
    } finally {
      step('report');
      this.current = null;
      this.history = addToHistory(this.history, r);
      await this.save().catch((e: unknown) => this.d.log.warn({ err: e }, 'rehearsal history not saved'));
      this.d.log.info({ by, group, result: r.result, failoverMs: r.failoverMs, failedRequests: r.failedRequests },
        `failover rehearsal of ${group} by ${by}: ${r.result}${r.reason ? ` (${r.reason})` : ''}`);
    }
  }

  private takeoverMs(): number {
    return this.d.takeoverTimeoutMs ?? 30_000;
  }

  /** the peer now holding the lease and the VIPs, once the VIPs left here; null on timeout */
  private async waitTakeover(group: string, me: string): Promise<string | null> {
    const end = Date.now() + this.takeoverMs();
    while (Date.now() < end) {
      const g = this.d.ha.status().groups.find((x) => x.name === group);
      if (g && g.leaseHolder && g.leaseHolder !== me && g.vipsPresent.length === 0) {
        const peer = (await this.peerViews()).find((p) => p.director === g.leaseHolder);
        const pg = peer?.status?.groups.find((x) => x.name === group);
        if (pg && pg.leaseHolder === peer!.director && pg.vipsPresent.length > 0) return peer!.director;
      }
      await sleep(100);
    }
    return null;
  }

  private async peerViews(): Promise<PeerView[]> {
    const fetchPeer = this.d.fetchPeer ?? defaultFetchPeer;
    return Promise.all(this.d.peers.map(async (peer): Promise<PeerView> => {
      try {
        const token = peer.token ?? (peer.tokenFile ? (await readFile(peer.tokenFile, 'utf8')).trim() : null);
        const parsed = haStatusSchema.safeParse(await fetchPeer(peer.url, token, AbortSignal.timeout(2000)));
        if (!parsed.success) return { director: peer.director, status: null, error: 'its answer is not an HA status' };
        // a peer answering under another name is not the peer configured
        if (parsed.data.director !== peer.director) return { director: peer.director, status: null, error: `answers as ${parsed.data.director.slice(0, 40)}` };
        return { director: peer.director, status: parsed.data as HaStatus, error: null };
      } catch (e) {
        return { director: peer.director, status: null, error: (e as Error).message.slice(0, 200) };
      }
    }));
  }

  private async save(): Promise<void> {
    if (!this.d.stateDir) return;
    const file = path.join(this.d.stateDir, FILE);
    const tmp = `${file}.${process.pid}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(this.history));
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  }
}
