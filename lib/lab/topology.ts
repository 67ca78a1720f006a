/**
 * The seed's lab as data (mirrors common.sh, which builds it) and the shapes
 * of what status.sh reports (server/lab/guest/). No I/O here, so the console can
 * import it to draw the topology.
 */
import { z } from 'zod';
import type { HaLabStatus } from './ha-topology';
import type { Traffic } from './traffic';

/** Faults of a real server (fault.sh rs1|rs2 FAULT on|off). */
export const FAULTS = ['stop-httpd', 'remove-vip', 'break-arp', 'remove-nat-route', 'strict-rp-filter'] as const;
export type Fault = (typeof FAULTS)[number];
/** Faults of the director itself (fault.sh director FAULT on|off): each provokes one doctor check. */
export const DIRECTOR_FAULTS = [
  'ip-forward-off', 'strict-rp-filter', 'remove-vip', 'unload-ipip', 'conn-reuse-off', 'persistent-dr', 'mh-dr',
  'defense-always', 'defense-active', 'conntrack-full', 'conntrack-reuse',
] as const;
export type DirectorFault = (typeof DIRECTOR_FAULTS)[number];
export const MAX_RATE = 200;
export const DEFAULT_RATE = 2;

export const REAL_SERVERS = [
  { name: 'rs1', address: '192.168.150.12' },
  { name: 'rs2', address: '192.168.150.13' },
] as const;

export const LAB_TOPOLOGY = {
  lan: '192.168.150.0/24',
  vip: '192.168.150.100',
  dip: '192.168.150.1',
  client: { name: 'client', address: '192.168.150.200' },
  realServers: REAL_SERVERS,
  ports: { dr: 80, nat: 8080, tun: 8081 },
  /** how each method carries requests and replies (what the lab page draws) */
  paths: {
    DR: { request: ['client', 'director', 'real server (MAC rewritten)'], reply: ['real server', 'client (from the VIP)'] },
    NAT: { request: ['client', 'director (DNAT to RIP:80)', 'real server'], reply: ['real server', 'director (policy route, un-NAT)', 'client'] },
    TUN: { request: ['client', 'director (IPIP to RIP)', 'real server tunl0'], reply: ['real server', 'client (from the VIP)'] },
  },
} as const;

const realServerFacts = z.union([
  z.object({ name: z.string(), address: z.string(), exists: z.literal(false) }),
  z.object({
    name: z.string(),
    address: z.string(),
    exists: z.literal(true),
    vipOnLo: z.boolean(),
    arp: z.object({ allIgnore: z.number().nullable(), allAnnounce: z.number().nullable(), eth0Ignore: z.number().nullable(), eth0Announce: z.number().nullable() }),
    natRule: z.boolean(),
    natRoute: z.boolean(),
    tunl0Up: z.boolean(),
    httpdPid: z.number().nullable(),
    faults: z.array(z.string()),
  }),
]);

export const labFactsSchema = z.object({
  director: z.object({ vipOnBr0: z.boolean(), ipForward: z.number(), faults: z.array(z.string()).default([]) }),
  realServers: z.array(realServerFacts),
});
export type LabFacts = z.infer<typeof labFactsSchema>;


export interface RealServerStatus {
  name: string;
  address: string;
  /** probed from the director with an HTTP GET to RIP:80 */
  httpd: { up: boolean; detail: string; pid: number | null };
  /** null: not known (the namespace facts are not in yet) */
  vipOnLo: boolean | null;
  arp: { allIgnore: number | null; allAnnounce: number | null; eth0Ignore: number | null; eth0Announce: number | null } | null;
  /** arp_ignore=1 and arp_announce=2 on all and eth0 */
  arpOk: boolean | null;
  /** the policy rule and the route that send NAT replies through the director */
  natRoute: boolean | null;
  tunl0Up: boolean | null;
  faults: string[];
}

export interface LabStatus {
  topology: typeof LAB_TOPOLOGY;
  /** 'ha': directors lvs1 and lvs2 (npm start -- --ha); absent in older agents: 'single' */
  mode?: 'single' | 'ha';
  ha?: HaLabStatus | null;
  director: LabFacts['director'] | null;
  realServers: RealServerStatus[];
  traffic: Traffic | null;
  /** when the namespace facts were read (ms since epoch) */
  factsAt: number | null;
  factsError: string | null;
}
