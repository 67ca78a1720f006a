/**
 * Checks Director makes before sending a change, for what the kernel's
 * netlink path accepts silently (reference §6.1, "Not validated by the
 * kernel netlink path") and for mistakes whose kernel answer (a bare EINVAL
 * or ERANGE) would not say what is wrong. Each throws IpvsError naming the
 * object and the field.
 */
import { MAX_PERSISTENCE_TIMEOUT, MAX_WEIGHT } from './constants';
import { IpvsError } from './errors';
import { formatDestination, formatServiceKey } from './format';
import type { DestinationKey, DestinationSpec, ServiceKey, ServiceSpec, SyncDaemonConfig, Timeouts } from './model';
import { parseIPv4, parseIPv6 } from '../net/ip';

const isInt = (n: unknown, min: number, max: number): n is number => Number.isInteger(n) && (n as number) >= min && (n as number) <= max;
const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);
const FAMILY_TEXT = { inet: 'IPv4', inet6: 'IPv6' } as const;

function parseFor(family: 'inet' | 'inet6', text: string): Uint8Array | null {
  return family === 'inet' ? parseIPv4(text) : family === 'inet6' ? parseIPv6(text) : null;
}

export function validateServiceKey(key: ServiceKey): void {
  if (key.family !== 'inet' && key.family !== 'inet6') throw new IpvsError('invalid', `unknown address family '${String(key.family)}'`);
  if (key.kind === 'fwmark') {
    if (!isInt(key.fwmark, 1, 0xffffffff)) throw new IpvsError('out_of_range', `fwmark ${key.fwmark} is out of range (1..4294967295)`);
    return;
  }
  if (!PROTOCOLS.has(key.protocol)) throw new IpvsError('invalid', `protocol '${String(key.protocol)}' is not one of tcp, udp, sctp`);
  if (!parseFor(key.family, key.address)) {
    throw new IpvsError('invalid', `virtual address '${key.address}' is not an ${FAMILY_TEXT[key.family]} address`);
  }
  if (!isInt(key.port, 0, 65535)) throw new IpvsError('out_of_range', `port ${key.port} of virtual service ${key.protocol.toUpperCase()} ${key.address} is out of range (0..65535)`);
}

function isContiguousMask(b: Uint8Array): boolean {
  const v = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const inv = ~v >>> 0;
  return (inv & (inv + 1)) === 0; // ones followed by zeros
}

export function validateServiceSpec(spec: ServiceSpec): void {
  validateServiceKey(spec.key);
  const label = `virtual service ${formatServiceKey(spec.key)}`;
  if (!/^[\x21-\x7e]{1,15}$/.test(spec.scheduler)) {
    throw new IpvsError('invalid', `${label}: scheduler name '${spec.scheduler}' must be 1..15 printable characters`);
  }
  if (spec.pe !== null && !/^[\x21-\x7e]{1,16}$/.test(spec.pe)) {
    throw new IpvsError('invalid', `${label}: persistence engine name '${spec.pe}' must be 1..16 printable characters`);
  }
  const { flags } = spec;
  if (!isInt(spec.timeout, 0, MAX_PERSISTENCE_TIMEOUT)) {
    throw new IpvsError('out_of_range', `${label}: persistence timeout ${spec.timeout} s is out of range (0..${MAX_PERSISTENCE_TIMEOUT})`);
  }
  if (flags.persistent && spec.timeout === 0) throw new IpvsError('invalid', `${label}: a persistent service needs a timeout of at least 1 s`);
  if (spec.key.kind === 'addr' && spec.key.port === 0 && !flags.persistent) {
    throw new IpvsError('invalid', `${label}: port 0 (all ports) is only allowed for a persistent service`);
  }
  if (flags.onePacket && spec.key.kind === 'addr' && spec.key.protocol !== 'udp') {
    throw new IpvsError('invalid', `${label}: one-packet scheduling is only for UDP and fwmark services`);
  }
  if (spec.key.family === 'inet') {
    const m = parseIPv4(spec.netmask);
    if (!m) throw new IpvsError('invalid', `${label}: netmask '${spec.netmask}' is not a dotted IPv4 mask`);
    if (!isContiguousMask(m)) throw new IpvsError('invalid', `${label}: netmask ${spec.netmask} is not contiguous`);
  } else if (!/^\d{1,3}$/.test(spec.netmask) || !isInt(Number(spec.netmask), 1, 128)) {
    throw new IpvsError('invalid', `${label}: IPv6 netmask '${spec.netmask}' must be a prefix length 1..128`);
  }
}

export function validateDestinationKey(service: ServiceKey, d: DestinationKey): void {
  const where = `virtual service ${formatServiceKey(service)}`;
  if (d.family !== 'inet' && d.family !== 'inet6') throw new IpvsError('invalid', `unknown address family '${String(d.family)}'`);
  if (!parseFor(d.family, d.address)) {
    throw new IpvsError('invalid', `real server address '${d.address}' in ${where} is not an ${FAMILY_TEXT[d.family]} address`);
  }
  if (!isInt(d.port, 0, 65535)) throw new IpvsError('out_of_range', `real server ${d.address} port ${d.port} in ${where} is out of range (0..65535)`);
}

function isUnusableIPv4(b: Uint8Array): boolean {
  return b.every((x) => x === 0) || b.every((x) => x === 255) || (b[0]! >= 224 && b[0]! <= 239);
}

export function validateDestinationSpec(service: ServiceKey, d: DestinationSpec): void {
  validateDestinationKey(service, d);
  const label = `real server ${formatDestination(d)} in virtual service ${formatServiceKey(service)}`;
  if (d.family !== service.family && d.forward !== 'tun') {
    throw new IpvsError('invalid', `${FAMILY_TEXT[d.family]} real server in ${FAMILY_TEXT[service.family]} virtual service requires tunnel forwarding`);
  }
  const v4 = d.family === 'inet' ? parseIPv4(d.address) : null;
  const v6 = d.family === 'inet6' ? parseIPv6(d.address) : null;
  if ((v4 && isUnusableIPv4(v4)) || (v6 && (v6.every((x) => x === 0) || v6[0] === 0xff))) {
    throw new IpvsError('invalid', `${label}: the address is not a unicast address`);
  }
  if (!isInt(d.weight, 0, MAX_WEIGHT)) throw new IpvsError('out_of_range', `${label}: weight ${d.weight} is out of range (0..${MAX_WEIGHT})`);
  for (const [name, v] of [['upper threshold', d.upperThreshold], ['lower threshold', d.lowerThreshold]] as const) {
    if (!isInt(v, 0, MAX_WEIGHT)) throw new IpvsError('out_of_range', `${label}: ${name} ${v} is out of range (0..${MAX_WEIGHT})`);
  }
  if (d.lowerThreshold > d.upperThreshold) {
    throw new IpvsError('out_of_range', `${label}: lower threshold ${d.lowerThreshold} is above upper threshold ${d.upperThreshold}`);
  }
  const t = d.tunnel;
  if (d.forward !== 'tun') {
    if (t.type !== 'ipip' || t.port !== 0 || t.checksum !== 'nocsum') {
      throw new IpvsError('invalid', `${label}: tunnel options need tunnel forwarding (forward is '${d.forward}')`);
    }
    return;
  }
  if (t.type === 'gue') {
    if (!isInt(t.port, 1, 65535)) throw new IpvsError('invalid', `${label}: a GUE tunnel needs a port 1..65535 (got ${t.port})`);
  } else if (t.port !== 0) {
    throw new IpvsError('invalid', `${label}: a tunnel port is only used by GUE, not ${t.type}`);
  }
  if (t.type === 'ipip' && t.checksum !== 'nocsum') throw new IpvsError('invalid', `${label}: an ipip tunnel has no checksum option`);
  if (t.type === 'gre' && t.checksum === 'remcsum') throw new IpvsError('invalid', `${label}: a GRE tunnel cannot use remote checksum offload`);
  if (!['ipip', 'gue', 'gre'].includes(t.type)) throw new IpvsError('invalid', `${label}: unknown tunnel type '${String(t.type)}'`);
}

export function validateTimeouts(t: Partial<Timeouts>): void {
  for (const [name, v] of Object.entries(t)) {
    if (v !== undefined && !isInt(v, 0, 0x7fffffff)) throw new IpvsError('out_of_range', `${name} timeout ${v} is not a whole number of seconds`);
  }
}

export function validateDaemonConfig(cfg: SyncDaemonConfig): void {
  const label = `${cfg.state} sync daemon`;
  if (cfg.state !== 'master' && cfg.state !== 'backup') throw new IpvsError('invalid', `sync daemon state '${String(cfg.state)}' is not master or backup`);
  if (!/^[\x21-\x7e]{1,15}$/.test(cfg.interface) || cfg.interface.includes('/')) {
    throw new IpvsError('invalid', `${label}: interface name '${cfg.interface}' is not valid`);
  }
  if (!isInt(cfg.syncId, 0, 255)) throw new IpvsError('out_of_range', `${label}: sync id ${cfg.syncId} is out of range (0..255)`);
  if (cfg.maxLen !== undefined && !isInt(cfg.maxLen, 1, 65507)) throw new IpvsError('out_of_range', `${label}: maxlen ${cfg.maxLen} is out of range (1..65507)`);
  if (cfg.port !== undefined && !isInt(cfg.port, 1, 65535)) throw new IpvsError('out_of_range', `${label}: port ${cfg.port} is out of range (1..65535)`);
  if (cfg.ttl !== undefined && !isInt(cfg.ttl, 1, 255)) throw new IpvsError('out_of_range', `${label}: ttl ${cfg.ttl} is out of range (1..255)`);
  if (cfg.group !== undefined) {
    const v4 = parseIPv4(cfg.group);
    const v6 = v4 ? null : parseIPv6(cfg.group);
    if (!(v4 && v4[0]! >= 224 && v4[0]! <= 239) && !(v6 && v6[0] === 0xff)) {
      throw new IpvsError('invalid', `${label}: group '${cfg.group}' is not a multicast address`);
    }
  }
}
