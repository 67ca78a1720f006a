/**
 * The lab's HA mode as data (mirrors ha-common.sh, which builds it) and the
 * shape of what the lab router reports about it. No I/O here, so the console
 * can import it.
 */
import { z } from 'zod';
import type { Traffic } from './traffic';

export const HA_DIRECTORS = [
  { name: 'lvs1', lanAddress: '192.168.150.2', heartbeatAddress: '10.150.1.1', priority: 150, proxyPort: 9581 },
  { name: 'lvs2', lanAddress: '192.168.150.3', heartbeatAddress: '10.150.1.2', priority: 100, proxyPort: 9582 },
] as const;
export type HaDirectorName = (typeof HA_DIRECTORS)[number]['name'];
export const HA_DIRECTOR_NAMES = HA_DIRECTORS.map((d) => d.name) as [HaDirectorName, ...HaDirectorName[]];

export const HA_LAB = {
  vip: '192.168.150.100',
  /** the real servers' NAT gateway: floats with the VIP */
  gateway: '192.168.150.1',
  zookeeper: '192.168.150.250:2181',
  /** the guest's port proxy forwards this port on the tap to ZooKeeper (for tests of its ACLs from the host) */
  zookeeperProxyPort: 9583,
  virtualRouterId: 51,
  syncId: 51,
  advertIntervalMs: 500,
  sessionTimeoutMs: 2000,
  group: 'lan',
  lanInterface: 'eth0',
  heartbeatInterface: 'hb0',
  slowPort: 8090,
  agentPort: 9580,
} as const;

/**
 * `--ha master-master` (issue #27): two VIP groups, each with its own lease and VRRP instance, lvs1 the
 * preferred master of the first and lvs2 of the second; DR services on both VIPs (no NAT: its gateway cannot
 * float with two masters at once); dnsmasq in namespace `dns` answers `dnsName` with the VIPs that are up.
 */
export const HA_MM = {
  groups: [
    { name: 'g100', vip: '192.168.150.100', virtualRouterId: 51, preferred: 'lvs1' },
    { name: 'g101', vip: '192.168.150.101', virtualRouterId: 52, preferred: 'lvs2' },
  ],
  dnsName: 'www.director.test',
  dnsServer: '192.168.150.53',
  /** how long the name leaves out a director's VIPs before maintenance moves them (the client resolves per request) */
  drainMs: 1000,
  hostsFile: '/run/director-lab/dns/hosts',
  dnsPidFile: '/run/director-lab/dns/dnsmasq.pid',
} as const;
export const HA_MM_VIPS: string[] = HA_MM.groups.map((g) => g.vip);

/** Fault switches of HA mode (ha-faults.sh); those marked `director` need one. */
export const HA_FAULTS = [
  'kill-keepalived-master', 'stop-director', 'kill-director', 'start-director',
  'cut-heartbeat', 'heal-heartbeat', 'stop-zookeeper', 'start-zookeeper', 'baseline',
] as const;
export type HaFault = (typeof HA_FAULTS)[number];
export const HA_FAULTS_WITH_DIRECTOR: readonly HaFault[] = ['stop-director', 'kill-director', 'start-director'];

export const haFaultInput = z.object({
  fault: z.enum(HA_FAULTS),
  director: z.enum(HA_DIRECTOR_NAMES).optional(),
  /** start-director only: rewrite the director's ha.json preempt before it starts */
  preempt: z.boolean().optional(),
  /** baseline only: plain keepalived without Director (on) or Director's controller (off) */
  on: z.boolean().optional(),
}).superRefine((v, ctx) => {
  const needsDirector = HA_FAULTS_WITH_DIRECTOR.includes(v.fault);
  if (needsDirector && !v.director) ctx.addIssue({ code: 'custom', path: ['director'], message: `${v.fault} needs a director (lvs1 or lvs2)` });
  if (!needsDirector && v.director) ctx.addIssue({ code: 'custom', path: ['director'], message: `${v.fault} takes no director` });
  if (v.preempt !== undefined && v.fault !== 'start-director') ctx.addIssue({ code: 'custom', path: ['preempt'], message: 'preempt goes only with start-director' });
  if ((v.on === undefined) !== (v.fault !== 'baseline')) {
    ctx.addIssue({ code: 'custom', path: ['on'], message: v.fault === 'baseline' ? 'baseline needs on: true or false' : `${v.fault} takes no on/off` });
  }
});
export type HaFaultInput = z.infer<typeof haFaultInput>;

/**
 * Faults that stay on until repaired. ha-faults.sh leaves a marker for each under
 * $LAB_STATE/faults (the lab's own memory, shared by both agents), so a reload or the
 * other director's page shows them on. kill-keepalived-master and kill-director are
 * one-shot: the agent restarts keepalived, the restart loop the agent.
 */
export const HA_STANDING_FAULTS = ['cut-heartbeat', 'stop-zookeeper', 'stopped-lvs1', 'stopped-lvs2', 'baseline'] as const;
export type HaStandingFault = (typeof HA_STANDING_FAULTS)[number];

/** The switch that repairs a standing fault, and nothing else. */
export function haRepairFor(f: HaStandingFault): HaFaultInput {
  switch (f) {
    case 'cut-heartbeat': return { fault: 'heal-heartbeat' };
    case 'stop-zookeeper': return { fault: 'start-zookeeper' };
    case 'stopped-lvs1': return { fault: 'start-director', director: 'lvs1' };
    case 'stopped-lvs2': return { fault: 'start-director', director: 'lvs2' };
    case 'baseline': return { fault: 'baseline', on: false };
  }
}

/** The standing faults among marker file names (anything else in the folder is not an HA fault). */
export function haFaultsOn(markers: readonly string[]): HaStandingFault[] {
  return HA_STANDING_FAULTS.filter((f) => markers.includes(f));
}

/** VRRP state of a director as its own agent reports it (ha.status), for the lab's drawing. */
export interface HaDirectorRole {
  /** MASTER, BACKUP, FAULT, STOP, UNKNOWN; null when the agent did not answer */
  state: string | null;
  fenced: boolean;
  leaseHolder: string | null;
  /** the agent's ZooKeeper session: connected, connecting, ... (null: no answer) */
  zookeeper: string | null;
  /** the agents' own UDP probe of the heartbeat path (null: not probed or no answer) */
  heartbeatOk: boolean | null;
  /** why there is no answer */
  error: string | null;
}

export interface HaLabDirector {
  name: HaDirectorName;
  lanAddress: string;
  /** the restart loop (like systemd's unit) is alive */
  running: boolean;
  agentPid: number | null;
  /** "stop director": the loop does not restart the agent */
  held: boolean;
  /** the agent runs without --ha-config (baseline) */
  haDisabled: boolean;
  keepalivedPids: number[];
  /** VIP and gateway addresses present in the director's namespace (from its routing table) */
  addressesPresent: string[];
  holdsVip: boolean;
  /**
   * When the VIP was last added to and removed from the namespace (guest clock, ms), as `ip monitor`
   * saw it happen; null before the first such event or without the monitor.
   */
  vipAddedAt: number | null;
  vipRemovedAt: number | null;
  /** master-master: the same for each VIP (keyed by address) */
  vipEvents?: Record<string, { present: boolean; addedAt: number | null; removedAt: number | null }>;
  /** what its agent says about its role (the lab router asks each agent's ha.status); absent from older agents */
  role?: HaDirectorRole | null;
}

export interface HaDownloads {
  at: number;
  completed: number;
  broken: number;
  current: { id: number; startedAt: number; bytes: number; expected: number | null; lastByteAt: number; localPort: number | null } | null;
  recent: { id: number; startedAt: number; endedAt: number; bytes: number; expected: number | null; ok: boolean; error: string | null; maxGapMs: number }[];
}

export interface HaLabStatus {
  /** read at (ms since epoch) */
  at: number;
  directors: HaLabDirector[];
  /** directors whose namespace holds the VIP now */
  vipHolders: HaDirectorName[];
  splitBrain: boolean;
  heartbeatCut: boolean;
  /** standing faults switched on and not yet repaired (markers under $LAB_STATE/faults) */
  faultsOn?: HaStandingFault[];
  zookeeper: { address: string; pid: number | null; running: boolean };
  baseline: boolean;
  downloads: HaDownloads | null;
  /** the client's HTTP load to the VIP (traffic.mjs counters) */
  traffic: Traffic | null;
  /** `--ha master-master`: holders per VIP, and what the DNS records file says now */
  masterMaster?: {
    vips: { address: string; holders: HaDirectorName[] }[];
    dns: { name: string; addresses: string[] | null; changedAt: number | null };
  } | null;
}
