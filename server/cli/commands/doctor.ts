/**
 * director doctor [--no-arp] [--json]
 * Reads this director's settings, IPVS table and connection table, probes
 * ARP for the VIPs of DR services on their LANs, and prints each finding with
 * what it read, why it matters and the line that fixes it. Exits 1 when a
 * critical finding is made, 0 otherwise.
 */
import { diagnose, type Finding } from '../../../lib/doctor/rules';
import { openIpvs } from '../../ipvs/open';
import { collectEvidence } from '../../doctor/collect';
import type { CliIo } from '../io';

const USAGE = `usage: director doctor [--no-arp] [--json]
  Checks this director: its own settings per forwarding method, IPVS's sysctls against the services in use,
  real servers as the director sees them, and (unless --no-arp) who answers ARP for each DR service's VIP.
  Exits 1 when there is a critical finding.
`;

export function formatFindings(findings: Finding[]): string {
  if (findings.length === 0) return 'No findings: nothing the doctor checks is wrong on this director.\n';
  const out: string[] = [];
  for (const f of findings) {
    out.push(`${f.severity.toUpperCase()} ${f.check}: ${f.title}`);
    for (const e of f.evidence) out.push(`  read: ${e}`);
    out.push(`  why:  ${f.why}`);
    for (const x of f.fix) out.push(`  fix:  ${x}`);
    out.push('');
  }
  const n = (s: string) => findings.filter((f) => f.severity === s).length;
  out.push(`${findings.length} finding${findings.length === 1 ? '' : 's'}: ${n('critical')} critical, ${n('warning')} warning, ${n('info')} info`);
  return `${out.join('\n')}\n`;
}

export default async function doctor(args: string[], io: CliIo): Promise<number> {
  let arp = true, json = false;
  for (const a of args) {
    if (a === '--help' || a === '-h') { io.stdout(USAGE); return 0; }
    if (a === '--no-arp') arp = false;
    else if (a === '--json') json = true;
    else { io.stderr(`director doctor: unknown option '${a}'\n${USAGE}`); return 2; }
  }
  const backend = await openIpvs();
  try {
    const evidence = await collectEvidence({ backend, arp });
    const findings = diagnose(evidence);
    io.stdout(json ? `${JSON.stringify({ findings, evidence })}\n` : formatFindings(findings));
    return findings.some((f) => f.severity === 'critical') ? 1 : 0;
  } finally {
    backend.close();
  }
}
