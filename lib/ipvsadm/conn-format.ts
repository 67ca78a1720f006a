/**
 * `ipvsadm -Lcn`: the kernel's /proc/net/ip_vs_conn lines as ipvsadm's
 * print_conn prints them (reference §8.7): each line read as
 * sscanf("%s %s %hX %s %hX %s %hX %s %d %s %s"), addresses made readable
 * (hex IPv4, or IPv6 compressed as inet_ntop does), expiry as MM:SS.
 * Always numeric, as with -n.
 */
import { formatIPv6, parseIPv6 } from '../net/ip';

export const CONN_TITLE = `IPVS connection entries\npro expire ${'state'.padEnd(11)} ${'source'.padEnd(18)} ${'virtual'.padEnd(18)} destination\n`;
export const CONN_TITLE_PE = `IPVS connection entries\npro expire ${'state'.padEnd(11)} ${'source'.padEnd(18)} ${'virtual'.padEnd(18)} ${'destination'.padEnd(18)} ${'pe name'.padEnd(16)} pe_data\n`;

/** The first line of /proc/net/ip_vs_conn, which ipvsadm skips unread. */
export const isConnHeader = (line: string) => line.startsWith('Pro ');

/** strtoul(text, NULL, 16) of a host-order value as a dotted quad. */
function hexV4(text: string): string {
  const m = /^[0-9A-Fa-f]+/.exec(text);
  const v = m ? parseInt(m[0].slice(-8), 16) >>> 0 : 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** sscanf %hX: hex digits, kept to 16 bits. */
function hexPort(text: string): number {
  const m = /^[0-9A-Fa-f]+/.exec(text);
  return m ? parseInt(m[0].slice(-4), 16) : 0;
}

const two = (n: number) => String(n).padStart(2, '0');

/** One /proc/net/ip_vs_conn line as ipvsadm -Lcn prints it, with its newline; '' for a line it would not print. */
export function formatConnLineLikeIpvsadm(line: string, peColumns = false): string {
  const f = line.trim().split(/\s+/);
  if (f.length < 9 || f[0] === '') return '';
  const [proto, c, cp, v, vp, d, dp, state, exp] = f as [string, string, string, string, string, string, string, string, string];
  // ipvsadm tells the family by whether the client address reads as IPv6
  const six = parseIPv6(c);
  const name = six
    ? (a: string, p: string) => `[${formatIPv6(parseIPv6(a) ?? new Uint8Array(16))}]:${hexPort(p)}`
    : (a: string, p: string) => `${hexV4(a)}:${hexPort(p)}`;
  const expires = Math.max(0, Number.parseInt(exp, 10) || 0);
  const expire = `${two(Math.floor(expires / 60))}:${two(expires % 60)}`;
  const head = `${proto.padEnd(3)} ${expire.padEnd(6)} ${state.padEnd(11)} ${name(c, cp).padEnd(18)} ${name(v, vp).padEnd(18)} `;
  if (peColumns && f.length >= 11) return `${head}${name(d, dp).padEnd(18)} ${f[9]!.padEnd(16)} ${f[10]}\n`;
  return `${head}${name(d, dp)}\n`;
}

/** A whole /proc/net/ip_vs_conn text as `ipvsadm -Lcn` prints it. */
export function formatConnectionsLikeIpvsadm(procText: string, peColumns = false): string {
  let out = peColumns ? CONN_TITLE_PE : CONN_TITLE;
  const lines = procText.split('\n');
  for (let i = 1; i < lines.length; i++) out += formatConnLineLikeIpvsadm(lines[i]!, peColumns);
  return out;
}
