/**
 * What the service name in front of master-master directors answers: the
 * VIPs of every group that has a master in service. A group without a lease
 * holder is moving (or down), and a holder in maintenance is about to give its
 * VIPs away: new clients should not be sent to either.
 */

export interface DnsGroupView {
  name: string;
  /** the group's addresses as configured ("192.168.150.100/32"); the first is the one the name offers */
  vips: string[];
  /** the lease holder as last read; null: nobody (the group is moving or down) */
  holder: string | null;
  /** the holder is in maintenance or draining towards it */
  holderOut: boolean;
}

/** The address part of "a.b.c.d/nn". */
export const bareAddress = (cidr: string): string => cidr.split('/')[0]!;

/** The addresses the name answers with, in the groups' order, without repeats. */
export function dnsAnswer(groups: DnsGroupView[]): string[] {
  const out: string[] = [];
  for (const g of groups) {
    if (g.holder === null || g.holderOut || g.vips.length === 0) continue;
    const a = bareAddress(g.vips[0]!);
    if (!out.includes(a)) out.push(a);
  }
  return out;
}

/** dnsmasq's --addn-hosts format (the /etc/hosts format): one "address name" line each. */
export function formatHostsFile(name: string, addresses: string[]): string {
  return `# written by the Director agent: ${name} answers with the VIPs of the groups that have a master in service\n${addresses.map((a) => `${a} ${name}\n`).join('')}`;
}

/** The addresses a hosts file (as formatHostsFile writes it) gives `name`; null when it is not one of ours. */
export function parseHostsFile(text: string, name: string): string[] | null {
  if (!text.startsWith('# written by the Director agent')) return null;
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3}) (\S+)$/.exec(line);
    if (m && m[2] === name) out.push(m[1]!);
  }
  return out;
}
