/**
 * What the lab page and `director lab status` call healthy, judged once for
 * both: per real server, per director, and for the HA pair as a whole. A check
 * that does not apply to the lab as built (tunl0 in the HA lab, which has no
 * TUN service) says so instead of reading as broken.
 */
import type { HaLabDirector, HaLabStatus } from './ha-topology';
import type { LabStatus, RealServerStatus } from './topology';

export interface LabCheck {
  label: string;
  /** null: not known yet */
  ok: boolean | null;
  /** false: this lab has nothing to check here (shown as n/a, never as broken) */
  applies: boolean;
  detail?: string;
}

const check = (label: string, ok: boolean | null, detail?: string): LabCheck => ({ label, ok, applies: true, ...(detail ? { detail } : {}) });
const notApplicable = (label: string, detail: string): LabCheck => ({ label, ok: null, applies: false, detail });

export function realServerChecks(rs: RealServerStatus, mode: 'single' | 'ha'): LabCheck[] {
  return [
    check('httpd answers the director', rs.httpd.up, rs.httpd.detail),
    check('VIP on loopback (DR)', rs.vipOnLo),
    check('arp_ignore=1, arp_announce=2 (DR)', rs.arpOk),
    check('replies routed through the director (NAT)', rs.natRoute),
    mode === 'ha'
      ? notApplicable('tunl0 up (TUN)', 'the HA lab has no TUN service')
      : check('tunl0 up (TUN)', rs.tunl0Up),
  ];
}

/** Healthy: no applicable check broken and no fault switched on. Unknown facts do not count against it. */
export function realServerHealthy(rs: RealServerStatus, mode: 'single' | 'ha'): boolean {
  return rs.faults.length === 0 && realServerChecks(rs, mode).every((c) => !c.applies || c.ok !== false);
}

/**
 * One director of the HA pair. The VIP belongs on the master only: with the
 * agent's VRRP state known, holding the VIP must match being MASTER; without
 * it, a holder is fine only as the sole holder.
 */
export function haDirectorChecks(d: HaLabDirector, s: HaLabStatus): LabCheck[] {
  const state = d.role?.state ?? null;
  const vipOk = s.splitBrain && d.holdsVip
    ? false
    : state === null || state === 'UNKNOWN' ? (d.holdsVip ? s.vipHolders.length === 1 : true) : d.holdsVip === (state === 'MASTER');
  const vipDetail = d.holdsVip
    ? `holds ${s.vipHolders.length > 1 ? `the VIP with ${s.vipHolders.filter((h) => h !== d.name).join(', ')} (split brain)` : 'the VIP'}${state ? ` as ${state}` : ''}`
    : `does not hold the VIP${state ? ` (${state})` : ''}`;
  return [
    check('agent running', d.held ? false : d.agentPid !== null, d.held ? 'stopped (stop-director)' : d.agentPid === null ? 'no agent process' : `pid ${d.agentPid}`),
    check('keepalived running', d.keepalivedPids.length > 0, d.keepalivedPids.length ? `pid ${d.keepalivedPids.join(', ')}` : 'no keepalived in its namespace'),
    check('VIP on the master only', vipOk, vipDetail),
    check('not fenced', d.role ? !d.role.fenced : null, d.role?.fenced ? 'fenced: keepalived forced to FAULT' : undefined),
    check('hears its peer on the heartbeat path', d.role?.heartbeatOk ?? null),
    check('ZooKeeper session', d.role?.zookeeper ? d.role.zookeeper === 'connected' : null, d.role?.zookeeper ?? d.role?.error ?? undefined),
  ];
}

/** The pair as a whole: one VIP holder, the heartbeat path, ZooKeeper. */
export function haPairChecks(s: HaLabStatus): LabCheck[] {
  return [
    check('VIP on exactly one director', s.vipHolders.length === 1, s.vipHolders.length ? `on ${s.vipHolders.join(' and ')}` : 'on no director'),
    check('heartbeat path connected', !s.heartbeatCut, s.heartbeatCut ? 'cut (hb-lvs2 detached from hbbr)' : undefined),
    check('ZooKeeper running', s.zookeeper.running, s.zookeeper.running ? `${s.zookeeper.address}, pid ${s.zookeeper.pid}` : `${s.zookeeper.address} stopped`),
  ];
}

export function haDirectorHealthy(d: HaLabDirector, s: HaLabStatus): boolean {
  return haDirectorChecks(d, s).every((c) => c.ok !== false);
}

/** The role the drawing shows: the agent's VRRP state, else what the kernel says (VIP or not). */
export function haRoleLabel(d: HaLabDirector): string {
  if (d.held || (!d.running && d.agentPid === null)) return 'stopped';
  const state = d.role?.state;
  if (state && state !== 'UNKNOWN') return d.role?.fenced && state === 'FAULT' ? 'FAULT (fenced)' : state;
  return d.holdsVip ? 'holds the VIP (role unknown)' : 'role unknown';
}

export function labMode(s: LabStatus): 'single' | 'ha' {
  return s.mode === 'ha' ? 'ha' : 'single';
}
