import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { HaStatus } from '@/lib/schemas/ha';
import { Rehearsals, type RehearsalDeps } from './rehearsal';
import type { HaService } from './service';

const log = pino({ level: 'silent' });

function status(director: string, holder: string, vips: boolean): HaStatus {
  return {
    director, enabled: true,
    zookeeper: { state: 'connected', since: 0, sessionTimeoutMs: 2000, failStatic: false, message: null },
    keepalived: { running: true, pid: 1, configPath: null, lastError: null },
    groups: [{
      name: 'web', vips: ['192.168.150.100/24'], virtualRouterId: 51, priority: 100, preempt: false,
      vrrpState: vips ? 'MASTER' : 'BACKUP', vipsPresent: vips ? ['192.168.150.100'] : [], leaseHolder: holder,
      fenced: false, fenceReason: null, maintenance: false,
    }],
    syncDaemons: [{ state: 'master', interface: 'eth1', syncId: 0 }],
    table: { appliedVersion: 3, zkVersion: 3, lastError: null, refused: null, held: null },
    transitions: [],
  };
}

/** two directors sharing one lease: handover moves it (and the VIP) to lvs2 */
function pair() {
  let holder = 'lvs1';
  const handovers: string[] = [];
  const ha: HaService = {
    enabled: true,
    status: () => status('lvs1', holder, holder === 'lvs1'),
    changed: () => new Promise(() => {}),
    handover: async (group, by) => { handovers.push(`${group} by ${by}`); holder = 'lvs2'; return status('lvs1', holder, false); },
    maintenance: () => Promise.reject(new Error('no')),
    confirmReplicated: () => Promise.reject(new Error('no')),
  };
  return { ha, handovers, peerStatus: () => status('lvs2', holder, holder === 'lvs2') };
}

let dir = '';
afterEach(async () => { if (dir) await rm(dir, { recursive: true, force: true }); dir = ''; });

function deps(p: ReturnType<typeof pair>, over: Partial<RehearsalDeps> = {}): RehearsalDeps {
  let failed = 4;
  let conns = 10;
  return {
    ha: p.ha, log, stateDir: dir || null, peers: [{ director: 'lvs2', url: 'http://127.0.0.1:1', token: 't' }],
    connections: async () => ({ active: conns--, inactive: 2 }),
    traffic: async () => ({ ok: 100, failed: (failed += 3) - 3 }),
    fetchPeer: async () => p.peerStatus(),
    settleMs: 0, takeoverTimeoutMs: 2000,
    ...over,
  };
}

describe('Rehearsals', () => {
  it('hands over, measures, and keeps the report in the state folder (0600)', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rehearsal-'));
    const p = pair();
    const r = await (await Rehearsals.open(deps(p))).run('web', 'alice');
    expect(p.handovers).toEqual(['web by alice (failover rehearsal)']);
    expect(r).toMatchObject({ result: 'ready', reason: null, newHolder: 'lvs2', by: 'alice', failedRequests: 3, okRequests: 0,
      connectionsBefore: { active: 10, inactive: 2 }, connectionsAfter: { active: 9, inactive: 2 } });
    expect(r.failoverMs).toBeGreaterThanOrEqual(0);
    expect(r.handback).toMatch(/from lvs2's HA panel/);
    expect(r.steps.map((s) => s.step)).toEqual(['pre-flight', 'handover', 'measure', 'report']);
    const file = path.join(dir, 'ha-rehearsals.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))[0].id).toBe(r.id);
    // a restarted agent lists it and numbers on
    const again = await Rehearsals.open(deps(pair()));
    expect(again.list().history.map((x) => x.id)).toEqual([r.id]);
    expect((await again.run('web', 'bob')).id).toBe(r.id + 1);
  });

  it('a failed pre-flight hands nothing over and measures nothing', async () => {
    const p = pair();
    const r = await (await Rehearsals.open(deps(p, { fetchPeer: async () => { throw new Error('ECONNREFUSED'); } }))).run('web', 'alice');
    expect(r.result).toBe('not-ready');
    expect(r.reason).toMatch(/lvs2: unreachable \(ECONNREFUSED\)/);
    expect(p.handovers).toEqual([]);
    expect([r.failedRequests, r.connectionsBefore]).toEqual([null, null]);
  });

  it('a peer answering junk or under another name is unreachable, not trusted', async () => {
    for (const answer of [{ director: 'lvs2', groups: 'x' }, { ...status('evil', 'evil', true) }]) {
      const p = pair();
      const r = await (await Rehearsals.open(deps(p, { fetchPeer: async () => answer }))).run('web', 'alice');
      expect(r.result).toBe('not-ready');
      expect(p.handovers).toEqual([]);
    }
  });

  it('no takeover within the limit is a failed rehearsal; one at a time', async () => {
    const p = pair();
    p.ha.handover = async () => status('lvs1', 'lvs1', true); // the lease does not move
    const reh = await Rehearsals.open(deps(p, { takeoverTimeoutMs: 300 }));
    const first = reh.run('web', 'alice');
    await expect(reh.run('web', 'bob')).rejects.toThrow(/under way \(started by alice\)/);
    const r = await first;
    expect(r.result).toBe('failed');
    expect(r.reason).toMatch(/no peer held web's lease/);
    expect(reh.list()).toMatchObject({ running: null, history: [{ id: r.id, result: 'failed' }] });
  });
});
