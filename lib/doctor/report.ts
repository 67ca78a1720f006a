/** What the API and the console show of one look: the findings (bounded) and what was looked at, in numbers. */
import type { DoctorEvidence } from './evidence';
import { diagnose, type Finding } from './rules';

export const MAX_FINDINGS = 200;

export interface DoctorReport {
  at: number;
  kernel: string;
  findings: Finding[];
  /** findings left out past MAX_FINDINGS */
  more: number;
  looked: { services: number; realServers: number; connections: number | null; interfaces: number; arpProbes: number | null };
  /** when the ARP probe whose answers this report holds ran (null: none) */
  arpAt: number | null;
}

export function buildReport(ev: DoctorEvidence, arpAt: number | null, max = MAX_FINDINGS): DoctorReport {
  const all = diagnose(ev);
  return {
    at: ev.at,
    kernel: ev.kernel,
    findings: all.slice(0, max),
    more: Math.max(0, all.length - max),
    looked: {
      services: ev.services.length,
      realServers: ev.services.reduce((n, s) => n + s.destinations.length, 0),
      connections: ev.conns ? ev.conns.entries : null,
      interfaces: ev.interfaces.length,
      arpProbes: ev.arp ? ev.arp.length : null,
    },
    arpAt,
  };
}
