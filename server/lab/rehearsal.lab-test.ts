/**
 * Failover rehearsal in the HA lab (issue #26 item 8): the master's
 * ha.rehearse runs its pre-flight, hands over, and reports the requests of
 * the lab's traffic that failed meanwhile; the VIP ends on the peer.
 *   npx vitest run --config vitest.lab-start.config.ts server/lab/rehearsal.lab-test.ts
 * Needs root (tap link), user-mode-linux, keepalived and zookeeper. Its own
 * tap link (dlabdrill0, guest 169.254.157.2), so it runs beside other labs.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client } from '../cli/commands/lab';
import { startHaLab, type HaLab } from './ha-lab';
import type { TapLink } from './uml';

const root = path.resolve(import.meta.dirname, '../..');
const canRun = process.getuid?.() === 0 && existsSync('/usr/bin/linux.uml') && existsSync('/usr/sbin/keepalived')
  && existsSync('/usr/share/java/zookeeper.jar');
if (!canRun) console.warn('rehearsal lab test skipped: needs root, /usr/bin/linux.uml, keepalived and zookeeper');

const TAP: TapLink = { name: 'dlabdrill0', hostAddress: '169.254.157.1', guestAddress: '169.254.157.2', prefix: 30 };
const RATE = 5;
/** the HA lab test's bound for a failover: "a handful" of failed requests (DR + NAT, 10 requests/s) */
const HANDFUL = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number, everyMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

describe.skipIf(!canRun)('HA lab: a failover rehearsal measures the failed requests', () => {
  const abort = new AbortController();
  let lab: HaLab;

  beforeAll(async () => {
    lab = await startHaLab({ projectRoot: root, rate: RATE, tap: TAP, signal: abort.signal, onStep: (s) => console.log(`  lab: ${s}`) });
    console.log(`HA lab ready in ${(lab.startupMs / 1000).toFixed(1)} s`);
  });
  afterAll(async () => {
    abort.abort();
    if (lab) await lab.done.catch(() => {});
  }, 60_000);

  it('the backup refuses to rehearse; the master hands over and reports failed requests and connections', async () => {
    // settled: one master with the lease and the VIP, the other an unfenced BACKUP, both sync daemons up, traffic flowing
    const { master, backup } = await until('the HA pair to settle with traffic', async () => {
      const st = await Promise.all(lab.agents.map(async (a) => ({ a, s: await client(a.url, a.viewerToken).ha.status.query() })));
      const m = st.find((x) => x.s.groups[0]?.leaseHolder === x.a.id && x.s.groups[0].vipsPresent.length > 0);
      const b = st.find((x) => x !== m && x.s.groups[0]?.vrrpState === 'BACKUP' && !x.s.groups[0].fenced);
      if (!m || !b || st.some((x) => x.s.syncDaemons.length === 0 || x.s.table.appliedVersion !== st[0]!.s.table.appliedVersion)) return null;
      const lab0 = await client(m.a.url, m.a.viewerToken).lab.haStatus.query();
      const ok = Object.values(lab0.traffic?.services ?? {}).reduce((n, v) => n + v.ok, 0);
      return ok > 0 ? { master: m.a, backup: b.a } : null;
    }, 180_000, 1000);
    await sleep(2500); // one sync-daemon flush, as the HA lab test does before a failover
    const group = (await client(master.url, master.viewerToken).ha.status.query()).groups[0]!.name;

    const refused = await client(backup.url, backup.operatorToken).ha.rehearse.mutate({ group });
    console.log(`on the backup ${backup.id}: ${refused.result} (${refused.reason})`);
    expect(refused.result).toBe('not-ready');
    expect(refused.preflight.find((c) => c.name === 'lease')!.ok).toBe(false);
    expect(refused.failedRequests).toBeNull();

    const r = await client(master.url, master.operatorToken).ha.rehearse.mutate({ group });
    console.log(`rehearsal on ${master.id}: ${r.result}${r.reason ? ` (${r.reason})` : ''}; pre-flight ${r.preflight.map((c) => `${c.name} ${c.ok ? 'ok' : 'FAIL'}`).join(', ')}; `
      + `failover ${r.failoverMs} ms to ${r.newHolder}; ${r.failedRequests} failed, ${r.okRequests} good requests; `
      + `connections before ${JSON.stringify(r.connectionsBefore)} after ${JSON.stringify(r.connectionsAfter)}; ${r.handback}`);
    expect(r.result).toBe('ready');
    expect(r.preflight.every((c) => c.ok)).toBe(true);
    expect(r.by).toMatch(/operator/); // the lab's operator token: the name the log record and the report carry
    expect(r.newHolder).toBe(backup.id);
    expect(typeof r.failedRequests).toBe('number');
    expect(r.failedRequests!).toBeLessThanOrEqual(HANDFUL);
    expect(r.okRequests!).toBeGreaterThan(0);
    expect(r.connectionsBefore).not.toBeNull();
    expect(r.connectionsAfter).not.toBeNull();
    expect(r.steps.map((s) => s.step)).toEqual(['pre-flight', 'handover', 'measure', 'report']);

    // where the VIP is at the end: on the peer alone (the lab's own view, not the agents')
    const holders = await until('the VIP on the peer alone', async () => {
      const s = await client(backup.url, backup.viewerToken).lab.haStatus.query();
      return s.vipHolders.length === 1 ? s.vipHolders : null;
    }, 10_000);
    expect(holders).toEqual([backup.id]);

    // the report is kept: newest first in ha.rehearsals
    const list = await client(master.url, master.viewerToken).ha.rehearsals.query();
    expect(list.running).toBeNull();
    expect(list.history.map((x) => x.id)[0]).toBe(r.id);
    expect(list.history[0]!.failedRequests).toBe(r.failedRequests);
  });
});
