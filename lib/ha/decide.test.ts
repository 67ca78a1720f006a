import { describe, expect, it } from 'vitest';
import {
  BACKUP_ACQUIRE_DELAY_MS, BACKUP_HEARS_MASTER_SESSIONS, decide, initialMemo, PEER_ANSWER_MAX_AGE_MS, PREEMPT_HEALTHY_MS, STAND_ASIDE_MS, STARTING,
  type DecideInput, type DecideMemo,
} from './decide';

const T = 1_000_000;
const base = (over: Partial<DecideInput> = {}): DecideInput => ({
  now: T, me: 'lvs1', myPriority: 150, sessionTimeoutMs: 2000,
  zk: { state: 'connected', since: T - 10_000 }, holder: null, vrrpState: 'BACKUP', vipsPresent: false,
  peers: null, maintenance: false, handover: false, members: [], ...over,
});
const memo = (over: Partial<DecideMemo> = {}): DecideMemo => ({ ...initialMemo(), ...over });
const serving = memo({ fenced: false, fenceReason: null, leaseBonus: true, syncRole: 'master' });
const standby = memo({ fenced: false, fenceReason: null, leaseBonus: false, syncRole: 'backup' });

describe('start-up', () => {
  it('starts fenced, without bonus or sync role, until the lease is known', () => {
    expect(initialMemo()).toMatchObject({ fenced: true, fenceReason: STARTING, leaseBonus: false, syncRole: null, failStatic: false });
  });
});

describe('1. this director holds the lease', () => {
  it('unfences, turns the lease bonus on and becomes sync master', () => {
    const d = decide(base({ holder: 'lvs1', vrrpState: 'MASTER', vipsPresent: true }), initialMemo());
    expect(d.lease).toBeNull();
    expect(d.memo).toMatchObject({ fenced: false, fenceReason: null, leaseBonus: true, syncRole: 'master', conflictSince: null });
  });
  it('lifts a fence left from an expired session once the lease is mine again', () => {
    const d = decide(base({ holder: 'lvs1', vrrpState: 'FAULT' }), memo({ fenced: true, fenceReason: 'ZooKeeper session expired' }));
    expect(d.memo.fenced).toBe(false);
  });
});

describe('2. another director holds the lease', () => {
  it('standby: no bonus, sync backup, not fenced when it has no VIPs', () => {
    const d = decide(base({ holder: 'lvs2' }), initialMemo());
    expect(d.lease).toBeNull();
    expect(d.memo).toMatchObject({ fenced: false, leaseBonus: false, syncRole: 'backup', conflictSince: null });
    expect(d.why).toContain('lvs2');
  });
  it('VIPs present: grace for one session timeout (the holder may be dead with its session alive), then fence', () => {
    let m = serving;
    let d = decide(base({ holder: 'lvs2', vrrpState: 'MASTER', vipsPresent: true }), m);
    expect(d.memo).toMatchObject({ fenced: false, leaseBonus: false, syncRole: 'backup', conflictSince: T });
    m = d.memo;
    d = decide(base({ now: T + 2000, holder: 'lvs2', vrrpState: 'MASTER', vipsPresent: true }), m);
    expect(d.memo.fenced).toBe(false);
    d = decide(base({ now: T + 2001, holder: 'lvs2', vrrpState: 'MASTER', vipsPresent: true }), d.memo);
    expect(d.memo.fenced).toBe(true);
    expect(d.memo.fenceReason).toMatch(/lvs2 holds the lease but this director still had the VIPs after 2001 ms/);
  });
  it('VRRP master without VIPs (yet) counts as holding them; so do VIPs left by a killed keepalived', () => {
    expect(decide(base({ holder: 'lvs2', vrrpState: 'MASTER' }), standby).memo.conflictSince).toBe(T);
    expect(decide(base({ holder: 'lvs2', vrrpState: 'STOP', vipsPresent: true }), standby).memo.conflictSince).toBe(T);
  });
  it('unfences once the VIPs are gone and it is not master, and resets the grace timer', () => {
    const fenced = memo({ fenced: true, fenceReason: 'x', conflictSince: T - 5000 });
    const stillFault = decide(base({ holder: 'lvs2', vrrpState: 'FAULT', vipsPresent: true }), fenced);
    expect(stillFault.memo.fenced).toBe(true);
    const d = decide(base({ holder: 'lvs2', vrrpState: 'FAULT', vipsPresent: false }), fenced);
    expect(d.memo).toMatchObject({ fenced: false, conflictSince: null });
  });
  it('split brain over a cut heartbeat: both MASTER, the non-holder is fenced after the grace, the holder is not', () => {
    let m1 = serving; // lvs1 holds the lease
    let m2 = standby;
    for (let t = T; t <= T + 2600; t += 250) {
      m1 = decide(base({ now: t, holder: 'lvs1', vrrpState: 'MASTER', vipsPresent: true }), m1).memo;
      m2 = decide(base({ now: t, me: 'lvs2', myPriority: 100, holder: 'lvs1', vrrpState: 'MASTER', vipsPresent: true }), m2).memo;
    }
    expect(m1.fenced).toBe(false);
    expect(m2.fenced).toBe(true);
  });
});

describe('2b. cut heartbeat: no flapping', () => {
  it('fenced for a conflict, it stays fenced while the same lease lives (unfenced, VRRP would make it master again)', () => {
    let m = standby;
    const lvs2 = { me: 'lvs2', myPriority: 100, holder: 'lvs1', leaseId: 'lvs1@5' };
    m = decide(base({ ...lvs2, vrrpState: 'MASTER', vipsPresent: true }), m).memo;
    m = decide(base({ ...lvs2, now: T + 2001, vrrpState: 'MASTER', vipsPresent: true }), m).memo;
    expect(m).toMatchObject({ fenced: true, conflictLease: 'lvs1@5' });
    // FAULT, VIPs gone: still fenced, for as long as that lease lives
    for (const t of [T + 2500, T + 60_000]) {
      const d = decide(base({ ...lvs2, now: t, vrrpState: 'FAULT', vipsPresent: false }), m);
      expect(d.memo.fenced).toBe(true);
      expect(d.memo.conflictSince).toBeNull();
      m = d.memo;
    }
    // the holder's lease ends (it died, or handed over): free again -> acquire; or a new lease -> unfenced standby
    const renewed = decide(base({ ...lvs2, now: T + 61_000, leaseId: 'lvs1@9', vrrpState: 'FAULT' }), m);
    expect(renewed.memo).toMatchObject({ fenced: false, conflictLease: null });
    let free = decide(base({ ...lvs2, now: T + 61_000, holder: null, leaseId: null, vrrpState: 'FAULT' }), m);
    expect(free.memo.conflictLease).toBeNull();
    free = decide(base({ ...lvs2, now: T + 61_300, holder: null, leaseId: null, vrrpState: 'FAULT' }), free.memo);
    expect(free.lease).toBe('acquire');
    expect(decide(base({ ...lvs2, now: T + 61_400, holder: 'lvs2', leaseId: 'lvs2@10', vrrpState: 'FAULT' }), free.memo).memo.fenced).toBe(false);
  });

  it('unfences as standby once the heartbeat probe has crossed the healed path for 2 s, not before, and not while it has VIPs', () => {
    let m = standby;
    const lvs2 = { me: 'lvs2', myPriority: 100, holder: 'lvs1', leaseId: 'lvs1@5' };
    m = decide(base({ ...lvs2, vrrpState: 'MASTER', vipsPresent: true }), m).memo;
    m = decide(base({ ...lvs2, now: T + 2001, vrrpState: 'MASTER', vipsPresent: true }), m).memo;
    expect(m.fenced).toBe(true);
    // path still cut: stays fenced
    m = decide(base({ ...lvs2, now: T + 10_000, vrrpState: 'FAULT', heartbeat: { ok: false, since: T } }), m).memo;
    expect(m.fenced).toBe(true);
    // healed 1 s ago: not yet
    m = decide(base({ ...lvs2, now: T + 11_000, vrrpState: 'FAULT', heartbeat: { ok: true, since: T + 10_000 } }), m).memo;
    expect(m.fenced).toBe(true);
    // healed but the VIPs are somehow still here: stays fenced
    expect(decide(base({ ...lvs2, now: T + 13_000, vrrpState: 'FAULT', vipsPresent: true, heartbeat: { ok: true, since: T + 10_000 } }), m).memo.fenced).toBe(true);
    const healed = decide(base({ ...lvs2, now: T + 12_100, vrrpState: 'FAULT', heartbeat: { ok: true, since: T + 10_000 } }), m);
    expect(healed.memo).toMatchObject({ fenced: false, conflictLease: null });
    expect(healed.why).toMatch(/heartbeat path carries traffic again/);
  });
});

describe('3. nobody holds the lease', () => {
  it('the VRRP master (or a director with the VIPs) acquires at once', () => {
    expect(decide(base({ vrrpState: 'MASTER' }), initialMemo()).lease).toBe('acquire');
    expect(decide(base({ vrrpState: 'BACKUP', vipsPresent: true }), initialMemo()).lease).toBe('acquire');
  });
  it(`a BACKUP waits ${BACKUP_ACQUIRE_DELAY_MS} ms so the master keeps its role, then acquires`, () => {
    let d = decide(base({ vrrpState: 'BACKUP' }), standby);
    expect(d.lease).toBeNull();
    expect(d.memo.freeSince).toBe(T);
    d = decide(base({ now: T + BACKUP_ACQUIRE_DELAY_MS - 1 }), d.memo);
    expect(d.lease).toBeNull();
    d = decide(base({ now: T + BACKUP_ACQUIRE_DELAY_MS }), d.memo);
    expect(d.lease).toBe('acquire');
  });
  it('just after ZooKeeper returns from fail static, a BACKUP that hears a master leaves it two session timeouts (its session may need renewing), then acquires', () => {
    const wait = BACKUP_HEARS_MASTER_SESSIONS * base().sessionTimeoutMs;
    const back = decide(base({ vrrpState: 'BACKUP' }), memo({ ...standby, failStatic: true }));
    expect(back.memo).toMatchObject({ failStatic: false, zkBackAt: T });
    let d = decide(base({ now: T + BACKUP_ACQUIRE_DELAY_MS }), back.memo);
    expect(d.lease).toBeNull();
    expect(d.why).toMatch(/waiting \d+ ms for the VRRP master/);
    d = decide(base({ now: T + wait - 1 }), d.memo);
    expect(d.lease).toBeNull();
    d = decide(base({ now: T + wait }), d.memo);
    expect(d.lease).toBe('acquire');
    // a director that hears no master (FAULT) does not wait for one
    expect(decide(base({ now: T + BACKUP_ACQUIRE_DELAY_MS, vrrpState: 'FAULT' }), decide(base({ vrrpState: 'FAULT' }), back.memo).memo).lease).toBe('acquire');
  });
  it('a fenced director (FAULT) also acquires after the delay and stays fenced until it holds the lease', () => {
    let d = decide(base({ vrrpState: 'FAULT' }), initialMemo());
    d = decide(base({ now: T + 400, vrrpState: 'FAULT' }), d.memo);
    expect(d.lease).toBe('acquire');
    expect(d.memo.fenced).toBe(true);
  });
});

describe('4. ZooKeeper unreachable', () => {
  const lost = (ms: number) => ({ state: 'disconnected' as const, since: T - ms });
  it('within the session timeout: nothing changes (fence, bonus, sync role kept as they were)', () => {
    for (const m of [serving, standby, memo({ fenced: true, fenceReason: 'x' })]) {
      const d = decide(base({ zk: lost(2000), vrrpState: 'MASTER', vipsPresent: true }), m);
      expect(d.lease).toBeNull();
      expect(d.askPeers).toBe(false);
      expect({ ...d.memo, conflictSince: m.conflictSince, freeSince: m.freeSince }).toEqual(m);
    }
    expect(decide(base({ zk: { state: 'connecting', since: T - 100 } }), serving).memo.fenced).toBe(false);
  });
  it('beyond the session timeout without a fresh answer from peers: ask them, change nothing', () => {
    const d = decide(base({ zk: lost(2001), peers: { at: T - PEER_ANSWER_MAX_AGE_MS - 1, anyConnected: true, detail: 'lvs2 is connected' } }), serving);
    expect(d.askPeers).toBe(true);
    expect(d.memo.fenced).toBe(false);
  });
  it('a peer reaches ZooKeeper: my session has surely expired and the lease may be theirs -> fence', () => {
    const d = decide(base({ zk: lost(2500), vrrpState: 'MASTER', vipsPresent: true, peers: { at: T - 100, anyConnected: true, detail: 'lvs2 is connected to ZooKeeper' } }), serving);
    expect(d.memo).toMatchObject({ fenced: true, leaseBonus: false, failStatic: false });
    expect(d.memo.fenceReason).toContain('lvs2 is connected to ZooKeeper');
  });
  it('a peer reaches ZooKeeper but claims nothing of the group (BACKUP, no lease, no VIPs): role unchanged, keep asking', () => {
    const peers = { at: T - 100, anyConnected: true, detail: 'lvs2 is connected to ZooKeeper and claims no group', claimed: false };
    const d = decide(base({ zk: lost(9000), vrrpState: 'MASTER', vipsPresent: true, peers }), { ...serving, failStatic: true });
    expect(d.memo).toMatchObject({ fenced: false, leaseBonus: true, syncRole: 'master', failStatic: false });
    expect(d.askPeers).toBe(true);
    expect(d.why).toMatch(/role unchanged until my session is back or a peer claims the group/);
    // the same peer becoming master of the group (a cut heartbeat, or it took the free lease): fence at once
    const d2 = decide(base({ zk: lost(9500), vrrpState: 'MASTER', vipsPresent: true, peers: { ...peers, claimed: true, at: T } }), d.memo);
    expect(d2.memo).toMatchObject({ fenced: true, leaseBonus: false });
    // a director fenced before keeps its fence while held off
    expect(decide(base({ zk: lost(9000), peers }), memo({ fenced: true, fenceReason: 'lvs2 holds the lease' })).memo.fenced).toBe(true);
  });
  it('no peer reaches it either (ZooKeeper down): fail static, the master keeps serving', () => {
    const d = decide(base({ zk: lost(5000), vrrpState: 'MASTER', vipsPresent: true, peers: { at: T, anyConnected: false, detail: 'lvs2: disconnected' } }), serving);
    expect(d.memo).toMatchObject({ fenced: false, leaseBonus: true, syncRole: 'master', failStatic: true });
    expect(d.lease).toBeNull();
    expect(d.why).toMatch(/fail static/);
  });
  it('fail static keeps a standby a standby, and a director fenced for a conflict fenced', () => {
    const peers = { at: T, anyConnected: false, detail: 'none' };
    expect(decide(base({ zk: lost(5000), peers }), standby).memo).toMatchObject({ fenced: false, syncRole: 'backup', failStatic: true });
    expect(decide(base({ zk: lost(5000), peers }), memo({ fenced: true, fenceReason: 'lvs2 holds the lease' })).memo.fenced).toBe(true);
  });
  it('a director that started while ZooKeeper is down for everyone is unfenced: nobody can hold a lease', () => {
    const d = decide(base({ zk: { state: 'connecting', since: T - 9000 }, peers: { at: T, anyConnected: false, detail: 'none' } }), initialMemo());
    expect(d.memo).toMatchObject({ fenced: false, failStatic: true });
  });
  it('failStatic ends when ZooKeeper is back', () => {
    const d = decide(base({ holder: 'lvs1', vrrpState: 'MASTER' }), { ...serving, failStatic: true });
    expect(d.memo.failStatic).toBe(false);
  });
});

describe('5. session expired', () => {
  it('fences at once, even as VRRP master with the VIPs and within any grace', () => {
    const d = decide(base({ zk: { state: 'expired', since: T }, holder: 'lvs1', vrrpState: 'MASTER', vipsPresent: true }), { ...serving, failStatic: true });
    expect(d.memo).toMatchObject({ fenced: true, leaseBonus: false, failStatic: false });
    expect(d.memo.fenceReason).toMatch(/session expired/);
    expect(d.lease).toBeNull();
  });
  it('stays fenced while the new session connects, then rejoins as standby or holder', () => {
    let d = decide(base({ zk: { state: 'expired', since: T } }), serving);
    d = decide(base({ now: T + 500, zk: { state: 'connecting', since: T } }), d.memo);
    expect(d.memo.fenced).toBe(true);
    const standbyD = decide(base({ now: T + 900, holder: 'lvs2', vrrpState: 'FAULT' }), d.memo);
    expect(standbyD.memo).toMatchObject({ fenced: false, syncRole: 'backup' });
    const free = decide(base({ now: T + 900, vrrpState: 'FAULT' }), d.memo);
    expect(free.memo.fenced).toBe(true);
  });
});

describe('6. maintenance', () => {
  it('the holder releases and fences; sync backup; no bonus', () => {
    const d = decide(base({ maintenance: true, holder: 'lvs1', vrrpState: 'MASTER', vipsPresent: true }), serving);
    expect(d.lease).toBe('release');
    expect(d.memo).toMatchObject({ fenced: true, leaseBonus: false, syncRole: 'backup' });
    expect(d.memo.fenceReason).toMatch(/maintenance/);
  });
  it('a non-holder is fenced and never acquires, connected or not', () => {
    expect(decide(base({ maintenance: true, vrrpState: 'MASTER' }), standby)).toMatchObject({ lease: null, memo: { fenced: true } });
    expect(decide(base({ maintenance: true, zk: { state: 'disconnected', since: T - 99_999 } }), standby)).toMatchObject({ lease: null, askPeers: false, memo: { fenced: true } });
  });
  it('maintenance off: back as standby once another holds the lease, or takes a free lease', () => {
    const m = memo({ fenced: true, fenceReason: 'maintenance: this director is taken out of service', syncRole: 'backup' });
    expect(decide(base({ holder: 'lvs2', vrrpState: 'FAULT' }), m).memo.fenced).toBe(false);
    let d = decide(base({ vrrpState: 'FAULT' }), m);
    d = decide(base({ now: T + 300, vrrpState: 'FAULT' }), d.memo);
    expect(d.lease).toBe('acquire');
  });
});

describe('7. hand over', () => {
  it('the holder releases, stands aside fenced, the peer acquires, then the old holder is an unfenced standby', () => {
    let d = decide(base({ handover: true, holder: 'lvs1', vrrpState: 'MASTER', vipsPresent: true }), serving);
    expect(d.lease).toBe('release');
    expect(d.memo).toMatchObject({ fenced: true, leaseBonus: false, standAsideUntil: T + STAND_ASIDE_MS });
    expect(d.memo.fenceReason).toMatch(/handed over/);
    // lease gone, still master for a moment: must not take it back
    d = decide(base({ now: T + 100, vrrpState: 'MASTER', vipsPresent: true }), d.memo);
    expect(d.lease).toBeNull();
    expect(d.memo.fenced).toBe(true);
    // peer took it; VIPs still here (keepalived going FAULT): stay fenced
    d = decide(base({ now: T + 600, holder: 'lvs2', vrrpState: 'FAULT', vipsPresent: true }), d.memo);
    expect(d.memo.fenced).toBe(true);
    d = decide(base({ now: T + 900, holder: 'lvs2', vrrpState: 'FAULT' }), d.memo);
    expect(d.memo).toMatchObject({ fenced: false, syncRole: 'backup' });
    // after the stand-aside, a normal standby
    d = decide(base({ now: T + STAND_ASIDE_MS + 1, holder: 'lvs2', vrrpState: 'BACKUP' }), d.memo);
    expect(d.memo).toMatchObject({ fenced: false, standAsideUntil: null, syncRole: 'backup' });
  });
  it('if nobody takes the lease, the old holder takes it back after the stand-aside', () => {
    let d = decide(base({ handover: true, holder: 'lvs1', vrrpState: 'MASTER' }), serving);
    d = decide(base({ now: T + STAND_ASIDE_MS - 1, vrrpState: 'FAULT' }), d.memo);
    expect(d.lease).toBeNull();
    d = decide(base({ now: T + STAND_ASIDE_MS, vrrpState: 'FAULT' }), d.memo);
    d = decide(base({ now: T + STAND_ASIDE_MS + BACKUP_ACQUIRE_DELAY_MS, vrrpState: 'FAULT' }), d.memo);
    expect(d.lease).toBe('acquire');
  });
  it('a hand over asked of a non-holder changes nothing', () => {
    const d = decide(base({ handover: true, holder: 'lvs2' }), standby);
    expect(d.memo.standAsideUntil).toBeNull();
    expect(d.memo.fenced).toBe(false);
  });
});

describe('8. preempt', () => {
  const higher = { director: 'lvs1', priority: 150, preempt: true, maintenance: false };
  const me2 = { me: 'lvs2', myPriority: 100, holder: 'lvs2', vrrpState: 'MASTER' as const, vipsPresent: true };
  it(`the holder gives way to a healthy higher-priority member with preempt after ${PREEMPT_HEALTHY_MS} ms`, () => {
    let d = decide(base({ ...me2, members: [higher] }), serving);
    expect(d.memo).toMatchObject({ preemptBy: 'lvs1', preemptSince: T, fenced: false });
    d = decide(base({ ...me2, now: T + PREEMPT_HEALTHY_MS - 1, members: [higher] }), d.memo);
    expect(d.lease).toBeNull();
    d = decide(base({ ...me2, now: T + PREEMPT_HEALTHY_MS, members: [higher] }), d.memo);
    expect(d.lease).toBe('release');
    expect(d.memo.fenced).toBe(true);
    expect(d.memo.standAsideReason).toMatch(/lvs1 \(priority 150, preempt\)/);
  });
  it('preempt=false on the higher member: the holder keeps the lease', () => {
    let d = decide(base({ ...me2, members: [{ ...higher, preempt: false }] }), serving);
    d = decide(base({ ...me2, now: T + 60_000, members: [{ ...higher, preempt: false }] }), d.memo);
    expect(d.lease).toBeNull();
    expect(d.memo).toMatchObject({ fenced: false, preemptBy: null });
  });
  it('a member in maintenance, of lower priority, or that left, does not preempt; leaving resets the timer', () => {
    for (const m of [{ ...higher, maintenance: true }, { ...higher, priority: 90 }]) {
      let d = decide(base({ ...me2, members: [m] }), serving);
      d = decide(base({ ...me2, now: T + 5000, members: [m] }), d.memo);
      expect(d.lease).toBeNull();
    }
    let d = decide(base({ ...me2, members: [higher] }), serving);
    d = decide(base({ ...me2, now: T + 1500, members: [] }), d.memo);
    d = decide(base({ ...me2, now: T + 1600, members: [higher] }), d.memo);
    d = decide(base({ ...me2, now: T + 3500, members: [higher] }), d.memo);
    expect(d.lease).toBeNull();
    d = decide(base({ ...me2, now: T + 3600, members: [higher] }), d.memo);
    expect(d.lease).toBe('release');
  });
  it('a lost ZooKeeper connection resets the preempt timer', () => {
    let d = decide(base({ ...me2, members: [higher] }), serving);
    d = decide(base({ ...me2, now: T + 1000, zk: { state: 'disconnected', since: T + 900 } }), d.memo);
    expect(d.memo.preemptSince).toBeNull();
  });
});
