/**
 * The fencing/lease decision for one VIP group: a pure function of what the
 * controller observed (ZooKeeper, the lease, keepalived, the kernel's VIPs,
 * peers) and a small memo it carried from the previous call. The controller
 * calls it on every event and every 250 ms and carries out the result:
 * fence file, lease file, lease znode, sync daemon role.
 *
 * The invariant it keeps: a director holds the VIPs only while it holds the
 * lease, except (a) for one session timeout of grace while another director's
 * lease may belong to a dead session, (b) while ZooKeeper is down for
 * everyone (fail static: keepalived alone decides, as without Director), and
 * (c) while it is cut off from ZooKeeper and the peers that reach it claim
 * neither the group's VRRP master role, its lease nor its VIPs.
 */
import type { VrrpState, ZkState } from '../schemas/ha';

/** How long a BACKUP waits before taking a free lease, so the current VRRP master keeps its role. */
export const BACKUP_ACQUIRE_DELAY_MS = 300;
/** After ZooKeeper returns from a fail-static spell, how many session timeouts a BACKUP that hears a VRRP master leaves that master to take the lease (2 was too short on a loaded machine: the master's new session came later and the VIPs moved). */
export const BACKUP_HEARS_MASTER_SESSIONS = 5;
/** After a hand over (or a preempting release) the old holder stands aside this long. */
export const STAND_ASIDE_MS = 10_000;
/** A preempting member must be healthy this long before the holder gives way. */
export const PREEMPT_HEALTHY_MS = 2_000;
/** Peers' answers about ZooKeeper older than this are not trusted. */
export const PEER_ANSWER_MAX_AGE_MS = 3_000;
/** A cut heartbeat path counts as healed once the agents' own probe has crossed it this long. */
export const HEARTBEAT_HEALED_MS = 2_000;

export interface MemberView {
  director: string;
  priority: number;
  preempt: boolean;
  maintenance: boolean;
}

export interface DecideInput {
  now: number;
  me: string;
  myPriority: number;
  sessionTimeoutMs: number;
  zk: { state: ZkState; since: number };
  /** lease holder as last read (meaningful while connected) */
  holder: string | null;
  /** identity of that lease (holder + creation); a new lease by the same holder is a new id. Defaults to `holder`. */
  leaseId?: string | null;
  vrrpState: VrrpState;
  /** any of the group's VIPs is on this director's interface (kernel truth) */
  vipsPresent: boolean;
  /**
   * latest answer from asking peers whether they reach ZooKeeper; null: not asked yet. `claimed`: a connected
   * peer is VRRP master of this group, holds its lease or has its VIPs (absent: assume it does).
   */
  peers: { at: number; anyConnected: boolean; detail: string; claimed?: boolean } | null;
  maintenance: boolean;
  /** one-shot: the operator asked this director to hand the group over */
  handover: boolean;
  /** other members present in ZooKeeper (their ephemeral znodes prove their sessions are alive) */
  members: MemberView[];
  /** the agents' own probe over the heartbeat path (server/ha/heartbeat.ts); null or absent: not probed */
  heartbeat?: { ok: boolean; since: number } | null;
}

export interface DecideMemo {
  fenced: boolean;
  fenceReason: string | null;
  leaseBonus: boolean;
  syncRole: 'master' | 'backup' | null;
  /** since when another director holds the lease while this one holds VIPs or is VRRP master */
  conflictSince: number | null;
  /**
   * The lease under which this director was fenced for holding the VIPs: while that lease lives, its
   * holder outlived a session timeout, so VRRP here cannot hear it (cut heartbeat). Unfencing would make
   * keepalived master again after 3 adverts and its gratuitous ARPs would steal the traffic: stay fenced.
   */
  conflictLease: string | null;
  /** since when the lease is free while this director is not VRRP master */
  freeSince: number | null;
  /** no acquiring until then (hand over, preempting release) */
  standAsideUntil: number | null;
  standAsideReason: string | null;
  /** since when the current preempting candidate has looked healthy */
  preemptSince: number | null;
  preemptBy: string | null;
  failStatic: boolean;
  /** when ZooKeeper came back after a fail-static spell (every director's session may have expired meanwhile) */
  zkBackAt: number | null;
}

export const initialMemo = (): DecideMemo => ({
  // keepalived starts fenced (init_file 1): no VIPs until the lease is known
  fenced: true,
  fenceReason: STARTING,
  leaseBonus: false,
  syncRole: null,
  conflictSince: null,
  conflictLease: null,
  freeSince: null,
  standAsideUntil: null,
  standAsideReason: null,
  preemptSince: null,
  preemptBy: null,
  failStatic: false,
  zkBackAt: null,
});

export const STARTING = 'starting: waiting to learn who holds the lease';

export type LeaseAction = 'acquire' | 'release' | null;

export interface Decision {
  memo: DecideMemo;
  lease: LeaseAction;
  /** ask peers whether they reach ZooKeeper (the controller does it and feeds `peers` back) */
  askPeers: boolean;
  /** one line on why things are as they are, for the status and the transition log */
  why: string;
}

function fence(m: DecideMemo, reason: string): void {
  m.fenced = true;
  m.fenceReason = reason;
}
function unfence(m: DecideMemo): void {
  m.fenced = false;
  m.fenceReason = null;
}

const holdsVips = (i: DecideInput) => i.vipsPresent || i.vrrpState === 'MASTER';

export function decide(input: DecideInput, prev: DecideMemo): Decision {
  const m: DecideMemo = { ...prev };
  const { now } = input;
  if (m.standAsideUntil !== null && now >= m.standAsideUntil) {
    m.standAsideUntil = null;
    m.standAsideReason = null;
  }
  const connected = input.zk.state === 'connected';
  if (!connected) m.preemptSince = m.preemptBy = null;
  if (connected || input.zk.state === 'expired') {
    if (m.failStatic) m.zkBackAt = now;
    m.failStatic = false;
  }
  const out = (lease: LeaseAction, why: string, askPeers = false): Decision => ({ memo: m, lease, askPeers, why });
  const iHold = connected && input.holder === input.me;

  // 6. maintenance: out of the group whatever ZooKeeper says
  if (input.maintenance) {
    fence(m, 'maintenance: this director is taken out of service');
    m.leaseBonus = false;
    m.syncRole = 'backup';
    m.conflictSince = m.freeSince = null;
    return out(iHold ? 'release' : null, 'in maintenance');
  }

  // 5. the session is gone: whatever lease it held is gone with it, and another director may hold it now
  if (input.zk.state === 'expired') {
    fence(m, 'ZooKeeper session expired: the lease may already be another director\'s');
    m.leaseBonus = false;
    m.conflictSince = m.freeSince = null;
    return out(null, 'session expired; starting a new one');
  }

  // 4. disconnected (or still connecting)
  if (!connected) {
    m.conflictSince = m.freeSince = null;
    const outFor = now - input.zk.since;
    if (outFor <= input.sessionTimeoutMs) {
      return out(null, `ZooKeeper unreachable for ${outFor} ms (within the ${input.sessionTimeoutMs} ms session timeout): role unchanged`);
    }
    const fresh = input.peers !== null && now - input.peers.at <= PEER_ANSWER_MAX_AGE_MS;
    if (!fresh) return out(null, `ZooKeeper unreachable for ${outFor} ms: asking peers whether they reach it`, true);
    if (input.peers!.anyConnected) {
      m.failStatic = false;
      if (input.peers!.claimed === false) {
        // After an outage for everyone, the peers' new sessions can come before this one. A connected peer that
        // is BACKUP without the lease or the VIPs leaves the role to this director (BACKUP_HEARS_MASTER_SESSIONS),
        // so fencing now only moved the VIPs twice (away, then back by preempt) for an outage that needed no
        // move. Once it claims the group (a cut heartbeat made it VRRP master, or it took the free lease), fence.
        return out(null, `ZooKeeper unreachable from here for ${outFor} ms; ${input.peers!.detail}: role unchanged until my session is back or a peer claims the group`, true);
      }
      fence(m, `ZooKeeper unreachable from here for ${outFor} ms while ${input.peers!.detail}: my session has expired and the lease may be theirs`);
      m.leaseBonus = false;
      return out(null, 'cut off from ZooKeeper alone', true);
    }
    m.failStatic = true;
    // never had a lease to lose: nobody can hold one now, so let VRRP decide alone, like plain keepalived
    if (m.fenced && m.fenceReason === STARTING) unfence(m);
    return out(null, `ZooKeeper unreachable for everyone (${input.peers!.detail}): fail static, keepalived alone decides`, true);
  }

  // 7. hand over: give the lease away and stand aside so the peer takes it
  if (input.handover && iHold) {
    m.standAsideUntil = now + STAND_ASIDE_MS;
    m.standAsideReason = 'handed over by an operator';
  }

  // 8. preempt: a healthier claim to the master role from a higher-priority member that asks for it
  if (iHold && m.standAsideUntil === null) {
    const cand = input.members
      .filter((x) => x.director !== input.me && x.preempt && !x.maintenance && x.priority > input.myPriority)
      .sort((a, b) => b.priority - a.priority)[0];
    if (!cand) {
      m.preemptSince = m.preemptBy = null;
    } else if (m.preemptBy !== cand.director || m.preemptSince === null) {
      m.preemptBy = cand.director;
      m.preemptSince = now;
    } else if (now - m.preemptSince >= PREEMPT_HEALTHY_MS) {
      m.standAsideUntil = now + STAND_ASIDE_MS;
      m.standAsideReason = `${cand.director} (priority ${cand.priority}, preempt) is back and healthy`;
      m.preemptSince = m.preemptBy = null;
    }
  }

  if (m.standAsideUntil !== null) {
    m.leaseBonus = false;
    m.conflictSince = m.freeSince = null;
    if (input.holder !== null && input.holder !== input.me) {
      m.syncRole = 'backup';
      // the peer has it: stay fenced only until the VIPs are gone, then wait as standby
      if (!holdsVips(input)) unfence(m);
      else fence(m, `standing aside: ${m.standAsideReason}`);
      return out(null, `standing aside (${m.standAsideReason}); ${input.holder} holds the lease`);
    }
    fence(m, `standing aside: ${m.standAsideReason}`);
    return out(iHold ? 'release' : null, `standing aside until the peer takes the lease (${m.standAsideReason})`);
  }

  // 1. I hold the lease
  if (iHold) {
    m.conflictLease = null;
    unfence(m);
    m.leaseBonus = true;
    m.syncRole = 'master';
    m.conflictSince = m.freeSince = null;
    return out(null, 'lease holder');
  }

  // 2. another director holds it
  if (input.holder !== null) {
    const leaseId = input.leaseId ?? input.holder;
    m.leaseBonus = false;
    m.syncRole = 'backup';
    m.freeSince = null;
    if (m.conflictLease !== null && m.conflictLease !== leaseId) m.conflictLease = null;
    if (m.conflictLease !== null && input.heartbeat?.ok && now - input.heartbeat.since >= HEARTBEAT_HEALED_MS && !holdsVips(input)) {
      // keepalived hears the holder's adverts again, so unfenced it stays BACKUP
      m.conflictLease = null;
      unfence(m);
      return out(null, `standby: the heartbeat path carries traffic again; ${input.holder} holds the lease`);
    }
    if (m.conflictLease !== null) {
      m.conflictSince = null;
      if (!m.fenced) fence(m, `${input.holder} holds the lease and VRRP here cannot hear it (heartbeat cut?): standing by fenced`);
      return out(null, `fenced while ${input.holder} holds the same lease (VRRP would make this director master again)`);
    }
    if (holdsVips(input)) {
      m.conflictSince ??= now;
      const held = now - m.conflictSince;
      if (held > input.sessionTimeoutMs) {
        fence(m, `${input.holder} holds the lease but this director still had the VIPs after ${held} ms`);
        m.conflictLease = leaseId;
        return out(null, `fenced: ${input.holder} holds the lease`);
      }
      // the holder may have died with its session not yet expired (failover after SIGKILL): grace
      return out(null, `${input.holder} holds the lease while this director has the VIPs: grace ${held}/${input.sessionTimeoutMs} ms`);
    }
    m.conflictSince = null;
    if (m.fenced) unfence(m);
    return out(null, `standby: ${input.holder} holds the lease`);
  }

  // 3. nobody holds it
  m.conflictSince = null;
  m.conflictLease = null;
  if (input.vrrpState === 'MASTER' || input.vipsPresent) {
    m.freeSince = null;
    return out('acquire', 'lease free and this director is VRRP master: taking it');
  }
  m.freeSince ??= now;
  let until = m.freeSince + BACKUP_ACQUIRE_DELAY_MS;
  // Just after a fail-static spell keepalived here may still hear the master that served through it; that
  // master takes the lease back itself once it has a new session (ZooKeeper's restart may have expired the
  // old one), and taking it here first would move the VIPs for nothing.
  if (input.vrrpState === 'BACKUP' && m.zkBackAt !== null) {
    until = Math.max(until, m.zkBackAt + BACKUP_HEARS_MASTER_SESSIONS * input.sessionTimeoutMs);
  }
  if (now >= until) return out('acquire', 'lease free and no master took it: taking it');
  return out(null, `lease free: waiting ${until - now} ms for the VRRP master to take it`);
}
