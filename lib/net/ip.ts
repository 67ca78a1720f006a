/**
 * IPv4/IPv6 literals <-> 16-byte kernel form (union nf_inet_addr), pure.
 * Canonical text: IPv4 dotted quad, IPv6 RFC 5952 (lower case, longest zero
 * run compressed), which is what inet_ntop and ipvsadm print.
 */
import type { AddressFamily } from '../ipvs/model';

export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

export function parseIPv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45) return null;
  let s = text;
  const out = new Uint8Array(16);
  // embedded IPv4 tail (::ffff:1.2.3.4)
  let tail: Uint8Array | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) !== -1) {
    tail = parseIPv4(s.slice(lastColon + 1));
    if (!tail) return null;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const gs = part.split(':');
    const vals: number[] = [];
    for (const g of gs) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      vals.push(parseInt(g, 16));
    }
    return vals;
  };
  let groups: number[];
  if (dbl === -1) {
    const g = parseGroups(s);
    if (!g || g.length !== 8) return null;
    groups = g;
  } else {
    const head = parseGroups(s.slice(0, dbl));
    const rest = parseGroups(s.slice(dbl + 2));
    if (!head || !rest || head.length + rest.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  }
  for (let i = 0; i < 8; i++) {
    out[i * 2] = groups[i]! >> 8;
    out[i * 2 + 1] = groups[i]! & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

export function familyOf(text: string): AddressFamily | null {
  if (parseIPv4(text)) return 'inet';
  if (parseIPv6(text)) return 'inet6';
  return null;
}

export function formatIPv4(b: Uint8Array, offset = 0): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

export function formatIPv6(b: Uint8Array, offset = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[offset + i * 2]! << 8) | b[offset + i * 2 + 1]!);
  // IPv4-mapped addresses print with a dotted tail, as inet_ntop does
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(b, offset + 12)}`;
  }
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}

/** Address text -> 16 bytes as the kernel stores it (IPv4 in bytes 0..3). */
export function addressToBytes(family: AddressFamily, text: string): Uint8Array {
  const out = new Uint8Array(16);
  const parsed = family === 'inet' ? parseIPv4(text) : parseIPv6(text);
  if (!parsed) throw new Error(`invalid ${family === 'inet' ? 'IPv4' : 'IPv6'} address '${text}'`);
  out.set(parsed, 0);
  return out;
}

export function bytesToAddress(family: AddressFamily, b: Uint8Array, offset = 0): string {
  return family === 'inet' ? formatIPv4(b, offset) : formatIPv6(b, offset);
}

/** Canonical text of an address literal, or null when it is not one. */
export function canonicalAddress(text: string): string | null {
  const v4 = parseIPv4(text);
  if (v4) return formatIPv4(v4);
  const v6 = parseIPv6(text);
  return v6 ? formatIPv6(v6) : null;
}

/** "addr:port" with IPv6 in brackets, as ipvsadm prints it. */
export function formatHostPort(family: AddressFamily, address: string, port: number): string {
  return family === 'inet6' ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Does `address` fall inside `cidr` ("10.0.0.0/8", "2001:db8::/32", or a bare address)? */
export function cidrContains(cidr: string, address: string): boolean {
  const [net, lenText] = cidr.split('/');
  const nb = parseIPv4(net!) ?? parseIPv6(net!);
  const ab = parseIPv4(address) ?? parseIPv6(address);
  if (!nb || !ab || nb.length !== ab.length) return false;
  const bits = lenText === undefined ? nb.length * 8 : Number(lenText);
  if (!Number.isInteger(bits) || bits < 0 || bits > nb.length * 8) return false;
  for (let i = 0; i < nb.length; i++) {
    const take = Math.max(0, Math.min(8, bits - i * 8));
    if (take === 0) break;
    const mask = (0xff << (8 - take)) & 0xff;
    if ((nb[i]! & mask) !== (ab[i]! & mask)) return false;
  }
  return true;
}

/** What a client filter says when its text is neither an address nor a CIDR (the console's forms and the agent's schema). */
export const ADDRESS_OR_CIDR_HINT = 'expected an address or CIDR, e.g. 10.0.0.0/8';

/** An address or a CIDR of either family, e.g. 10.1.2.3, 10.0.0.0/8, 2001:db8::/32 (text already trimmed). */
export function isAddressOrCidr(s: string): boolean {
  const [addr, len] = s.split('/');
  if (canonicalAddress(addr ?? '') === null) return false;
  if (len === undefined) return true;
  // cidrContains validates the length against the family; test with the network address itself
  return /^\d{1,3}$/.test(len) && cidrContains(s, addr!);
}
