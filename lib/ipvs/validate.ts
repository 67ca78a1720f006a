/**
 * Checks Director makes before sending a change, for what the kernel's
 * netlink path accepts silently (reference §6.1, "Not validated by the
 * kernel netlink path") and for mistakes whose kernel answer (a bare EINVAL
 * or ERANGE) would not say what is wrong. Each throws IpvsError naming the
 * object and the field. The bounds and rules are rules.ts's, as the schemas'
 * are; scheduler names are only checked for what the kernel can carry, so an
 * unknown one reaches the kernel and is explained from its answer.
 */
import { IpvsError } from './errors';
import { formatDestination, formatServiceKey } from './format';
import type { DestinationKey, DestinationSpec, ServiceKey, ServiceSpec, SyncDaemonConfig, Timeouts } from './model';
import { parseIPv4, parseIPv6 } from '../net/ip';
import {
  CONN_TIMEOUT, FWMARK, GUE_PORT, MAX_NAME_LENGTH, NAME_TEXT, PERSISTENCE_TIMEOUT, PORT, PROTOCOLS, SYNC_ID, SYNC_MAXLEN, SYNC_PORT,
  SYNC_TTL, THRESHOLD, TUNNEL_TYPES, WEIGHT, anyPortWithoutPersistence, boundText, familyMixWithoutTunnel, inBound, isPeName,
  netmaskProblem, onePacketNotAllowed, persistentWithoutTimeout, thresholdsInverted, tunnelOptionsWithoutTunnel,
  tunnelProblems, unusableRealServer, type Bound,
} from './rules';

const isInt = (n: unknown, b: Bound): n is number => inBound(n, b);
const FAMILY_TEXT = { inet: 'IPv4', inet6: 'IPv6' } as const;

function parseFor(family: 'inet' | 'inet6', text: string): Uint8Array | null {
  return family === 'inet' ? parseIPv4(text) : family === 'inet6' ? parseIPv6(text) : null;
}

export function validateServiceKey(key: ServiceKey): void {
  if (key.family !== 'inet' && key.family !== 'inet6') throw new IpvsError('invalid', `unknown address family '${String(key.family)}'`);
  if (key.kind === 'fwmark') {
    if (!isInt(key.fwmark, FWMARK)) throw new IpvsError('out_of_range', `fwmark ${key.fwmark} is out of range (${boundText(FWMARK)})`);
    return;
  }
  if (!(PROTOCOLS as readonly string[]).includes(key.protocol)) throw new IpvsError('invalid', `protocol '${String(key.protocol)}' is not one of tcp, udp, sctp`);
  if (!parseFor(key.family, key.address)) {
    throw new IpvsError('invalid', `virtual address '${key.address}' is not an ${FAMILY_TEXT[key.family]} address`);
  }
  if (!isInt(key.port, PORT)) throw new IpvsError('out_of_range', `port ${key.port} of virtual service ${key.protocol.toUpperCase()} ${key.address} is out of range (${boundText(PORT)})`);
}

export function validateServiceSpec(spec: ServiceSpec): void {
  validateServiceKey(spec.key);
  const label = `virtual service ${formatServiceKey(spec.key)}`;
  if (!NAME_TEXT.test(spec.scheduler)) {
    throw new IpvsError('invalid', `${label}: scheduler name '${spec.scheduler}' must be 1..${MAX_NAME_LENGTH} printable characters`);
  }
  if (spec.pe !== null && !isPeName(spec.pe)) {
    throw new IpvsError('invalid', `${label}: persistence engine name '${spec.pe}' must be 1..${MAX_NAME_LENGTH} lower-case letters, digits and _`);
  }
  if (!isInt(spec.timeout, PERSISTENCE_TIMEOUT)) {
    throw new IpvsError('out_of_range', `${label}: persistence timeout ${spec.timeout} s is out of range (${boundText(PERSISTENCE_TIMEOUT)})`);
  }
  if (persistentWithoutTimeout(spec)) throw new IpvsError('invalid', `${label}: a persistent service needs a timeout of at least 1 s`);
  if (anyPortWithoutPersistence(spec)) {
    throw new IpvsError('invalid', `${label}: port 0 (all ports) is only allowed for a persistent service`);
  }
  if (onePacketNotAllowed(spec)) {
    throw new IpvsError('invalid', `${label}: one-packet scheduling is only for UDP and fwmark services`);
  }
  const mask = netmaskProblem(spec.key.family, spec.netmask);
  if (mask) throw new IpvsError('invalid', `${label}: ${mask}`);
}

export function validateDestinationKey(service: ServiceKey, d: DestinationKey): void {
  const where = `virtual service ${formatServiceKey(service)}`;
  if (d.family !== 'inet' && d.family !== 'inet6') throw new IpvsError('invalid', `unknown address family '${String(d.family)}'`);
  if (!parseFor(d.family, d.address)) {
    throw new IpvsError('invalid', `real server address '${d.address}' in ${where} is not an ${FAMILY_TEXT[d.family]} address`);
  }
  if (!isInt(d.port, PORT)) throw new IpvsError('out_of_range', `real server ${d.address} port ${d.port} in ${where} is out of range (${boundText(PORT)})`);
}

export function validateDestinationSpec(service: ServiceKey, d: DestinationSpec): void {
  validateDestinationKey(service, d);
  const label = `real server ${formatDestination(d)} in virtual service ${formatServiceKey(service)}`;
  if (familyMixWithoutTunnel(service.family, d)) {
    throw new IpvsError('invalid', `${FAMILY_TEXT[d.family]} real server in ${FAMILY_TEXT[service.family]} virtual service requires tunnel forwarding`);
  }
  const unusable = unusableRealServer(d.family, d.address);
  if (unusable) throw new IpvsError('invalid', `${label}: the address is not a unicast address (${unusable})`);
  if (!isInt(d.weight, WEIGHT)) throw new IpvsError('out_of_range', `${label}: weight ${d.weight} is out of range (${boundText(WEIGHT)})`);
  for (const [name, v] of [['upper threshold', d.upperThreshold], ['lower threshold', d.lowerThreshold]] as const) {
    if (!isInt(v, THRESHOLD)) throw new IpvsError('out_of_range', `${label}: ${name} ${v} is out of range (${boundText(THRESHOLD)})`);
  }
  if (thresholdsInverted(d)) {
    throw new IpvsError('out_of_range', `${label}: lower threshold ${d.lowerThreshold} is above upper threshold ${d.upperThreshold}`);
  }
  const t = d.tunnel;
  if (tunnelOptionsWithoutTunnel(d)) {
    throw new IpvsError('invalid', `${label}: tunnel options need tunnel forwarding (forward is '${d.forward}')`);
  }
  if (d.forward !== 'tun') return;
  if (!(TUNNEL_TYPES as readonly string[]).includes(t.type)) throw new IpvsError('invalid', `${label}: unknown tunnel type '${String(t.type)}'`);
  const why = {
    gue_needs_port: `a GUE tunnel needs a port ${boundText(GUE_PORT)} (got ${t.port})`,
    port_without_gue: `a tunnel port is only used by GUE, not ${t.type}`,
    ipip_checksum: 'an ipip tunnel has no checksum option',
    gre_remote_checksum: 'a GRE tunnel cannot use remote checksum offload',
  };
  const problem = tunnelProblems(t)[0];
  if (problem) throw new IpvsError('invalid', `${label}: ${why[problem]}`);
}

export function validateTimeouts(t: Partial<Timeouts>): void {
  for (const [name, v] of Object.entries(t)) {
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < CONN_TIMEOUT.min) throw new IpvsError('out_of_range', `${name} timeout ${v} is not a whole number of seconds`);
    // the kernel's own refusal (EINVAL) depends on its HZ; this bound holds for every HZ
    if (v > CONN_TIMEOUT.max) throw new IpvsError('invalid', `${name} timeout ${v} s is too large (at most ${CONN_TIMEOUT.max}, INT_MAX / HZ for HZ up to 1000)`);
  }
}

export function validateDaemonConfig(cfg: SyncDaemonConfig): void {
  const label = `${cfg.state} sync daemon`;
  if (cfg.state !== 'master' && cfg.state !== 'backup') throw new IpvsError('invalid', `sync daemon state '${String(cfg.state)}' is not master or backup`);
  if (!NAME_TEXT.test(cfg.interface) || cfg.interface.includes('/')) {
    throw new IpvsError('invalid', `${label}: interface name '${cfg.interface}' is not valid`);
  }
  if (!isInt(cfg.syncId, SYNC_ID)) throw new IpvsError('out_of_range', `${label}: sync id ${cfg.syncId} is out of range (${boundText(SYNC_ID)})`);
  if (cfg.maxLen !== undefined && !isInt(cfg.maxLen, SYNC_MAXLEN)) throw new IpvsError('out_of_range', `${label}: maxlen ${cfg.maxLen} is out of range (${boundText(SYNC_MAXLEN)})`);
  if (cfg.port !== undefined && !isInt(cfg.port, SYNC_PORT)) throw new IpvsError('out_of_range', `${label}: port ${cfg.port} is out of range (${boundText(SYNC_PORT)})`);
  if (cfg.ttl !== undefined && !isInt(cfg.ttl, SYNC_TTL)) throw new IpvsError('out_of_range', `${label}: ttl ${cfg.ttl} is out of range (${boundText(SYNC_TTL)})`);
  if (cfg.group !== undefined) {
    const v4 = parseIPv4(cfg.group);
    const v6 = v4 ? null : parseIPv6(cfg.group);
    if (!(v4 && v4[0]! >= 224 && v4[0]! <= 239) && !(v6 && v6[0] === 0xff)) {
      throw new IpvsError('invalid', `${label}: group '${cfg.group}' is not a multicast address`);
    }
  }
}
