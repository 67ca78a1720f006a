/**
 * Prints a ConnEntry exactly as the kernel's ip_vs_conn_seq_show does
 * (reference §7.3). Used to generate synthetic tables (bench, tests) and as
 * the inverse of the parser in round-trip properties.
 */
import { parseIPv4, parseIPv6 } from '../net/ip';
import type { ConnEntry } from './parse';

export const CONN_HEADER = 'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n';

const KERNEL_PROTO: Record<string, string> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP', ip: 'IP', icmp: 'ICMP', icmpv6: 'ICMPv6' };

function hex(v: number, width: number): string {
  return v.toString(16).toUpperCase().padStart(width, '0');
}

/** %08X of the host-order value, or %pI6 (8 groups of 4 lower-case digits). */
export function kernelAddress(family: 'inet' | 'inet6', text: string): string {
  if (family === 'inet') {
    const b = parseIPv4(text);
    if (!b) throw new Error(`not an IPv4 address: '${text}'`);
    return hex(((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0, 8);
  }
  const b = parseIPv6(text);
  if (!b) throw new Error(`not an IPv6 address: '${text}'`);
  const g: string[] = [];
  for (let i = 0; i < 8; i++) g.push(((b[i * 2]! << 8) | b[i * 2 + 1]!).toString(16).padStart(4, '0'));
  return g.join(':');
}

export function formatConnLine(e: ConnEntry): string {
  const proto = KERNEL_PROTO[e.protocol] ?? e.protocol.toUpperCase();
  let vaddr: string;
  if (e.fwmark !== null) {
    const m = e.fwmark >>> 0;
    vaddr = e.family === 'inet'
      ? hex(m, 8)
      : `${hex(m >>> 16, 4)}:${hex(m & 0xffff, 4)}:0000:0000:0000:0000:0000:0000`.toLowerCase();
  } else {
    vaddr = kernelAddress(e.family, e.vaddr ?? '');
  }
  const pe = e.pe !== undefined ? ` ${e.pe} ${e.peData ?? ''}` : '';
  return `${proto.padEnd(3)} ${kernelAddress(e.family, e.clientAddr)} ${hex(e.clientPort, 4)} ${vaddr} ${hex(e.vport, 4)} ` +
    `${kernelAddress(e.destFamily, e.destAddr)} ${hex(e.destPort, 4)} ${e.state.padEnd(11)} ${String(e.expires).padStart(7)}${pe}\n`;
}
