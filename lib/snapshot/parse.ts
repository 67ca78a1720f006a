/**
 * ipvsadm save/restore text -> ServiceRules[] (reference §8). Each line is
 * read as `ipvsadm -R` would read it, with ipvsadm's defaults and quirks
 * (§8.3, §8.10): bare -p is 360 s, a DR/TUN real server of an address
 * service gets the service port, `-6` resets the netmask (so -M must follow
 * it), fwmark real servers default to port 0. Unlike ipvsadm, every line is
 * checked before anything is applied and all problems are reported, each
 * with its line (and column when one word is at fault).
 */
import {
  DEFAULT_FLAGS, DEFAULT_PERSISTENCE_TIMEOUT, DEFAULT_TUNNEL, type AddressFamily, type DestinationSpec,
  type ForwardMethod, type Protocol, type ServiceFlags, type ServiceKey, type ServiceRules, type ServiceSpec,
  type TunnelChecksum, type TunnelType,
} from '../ipvs/model';
import { formatIPv4, formatIPv6, parseIPv6 } from '../net/ip';
import {
  FWMARK, GUE_PORT, IPV6_PREFIX, MAX_NAME_LENGTH, PERSISTENCE_TIMEOUT, PORT, SCHEDULER_NAMES, THRESHOLD, TUNNEL_TYPES, WEIGHT,
  anyPortWithoutPersistence, boundText, defaultNetmask, inBound, isContiguousV4Mask, isPeName, onePacketNotAllowed,
} from '../ipvs/rules';
import { destinationSpecSchema, serviceSpecSchema } from '../schemas/ipvs';
import { findGarbage, hasGarbage, parseLineOptions, splitWords, type LineError, type ParsedLine, type ParsedOption } from './argv';
import { destinationId, sameDestinationKey, sameServiceKey, serviceId } from '../ipvs/ids';
import { destinationArg, serviceArg } from './keys';
import { NameNeeded, NameTable, numericOnly, type NameResolver } from './resolve';
import { canonicalQuad, quickDestinationSpec, quickServiceSpec, realServerProblem } from './validate';

export type SnapshotError = LineError;

export interface ParseOptions {
  resolver?: NameResolver;
  /** Stop collecting after this many errors (default 100). */
  maxErrors?: number;
}

export interface ParsedSnapshot {
  /** The table, in file order; empty when there are errors. */
  services: ServiceRules[];
  /** Source lines, parallel to `services` and their `destinations`. */
  lines: { service: number; destinations: number[] }[];
  errors: SnapshotError[];
}

class LineFailure extends Error {
  constructor(readonly column: number | undefined, message: string) { super(message); }
}
const fail = (column: number | undefined, message: string): never => { throw new LineFailure(column, message); };

/** strtol(s, 10) accepted whole, as ipvsadm's string_to_number does. */
function decimal(text: string): number | null {
  // plain digits, nearly every number in a file, need no regex
  let i = 0;
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  if (i > 0 && i === text.length) return Number(text);
  return /^[ \t]*[+-]?\d+$/.test(text) ? Number(text.trim()) : null;
}

/** glibc inet_aton: 1 to 4 parts, each decimal, 0x hex or 0 octal (`10.1` is 10.0.0.1, `24` is 0.0.0.24). */
export function inetAton(text: string): string | null {
  // what ipvsadm -Sn prints is already the canonical quad: no need to take it apart
  if (canonicalQuad(text) >= 0) return text;
  const parts = text.split('.');
  if (parts.length > 4 || parts.some((p) => p === '')) return null;
  const vals: number[] = [];
  for (const p of parts) {
    let v: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(p)) v = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) v = parseInt(p, 8);
    else if (/^[1-9]\d*$/.test(p)) v = Number(p);
    else return null;
    vals.push(v);
  }
  const last = vals.pop()!;
  if (vals.some((v) => v > 255)) return null;
  const lastBits = 8 * (4 - vals.length);
  if (last >= 2 ** lastBits) return null;
  const bytes = new Uint8Array(4);
  vals.forEach((v, i) => { bytes[i] = v; });
  for (let i = 3, x = last; i >= vals.length; i--, x = Math.floor(x / 256)) bytes[i] = x % 256;
  return formatIPv4(bytes);
}

interface HostPort { family: AddressFamily; address: string; port: number | undefined }

/**
 * ipvsadm parse_service: `a.b.c.d[:port]`, `[v6]:port`, bare v6 (no port), `host[:port]` (IPv4 names only).
 * Synchronous: a name not looked up yet throws NameNeeded (see NameTable).
 */
function parseHostPort(
  o: ParsedOption, what: 'virtual service' | 'real server', protocol: Protocol, names: NameTable,
): HostPort {
  const text = o.value ?? '';
  const col = o.column;
  if (text === '' || /^\d+$/.test(text)) fail(col, `illegal ${what} address '${text}': expected address[:port]`);
  let hostText: string;
  let portText: string | undefined;
  let family: AddressFamily | undefined;
  let address: string | undefined;
  let bare: Uint8Array | null;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) fail(col, `illegal ${what} address '${text}': missing ']'`);
    hostText = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (!rest.startsWith(':')) fail(col, `illegal ${what} address '${text}': [IPv6] needs :port`);
    portText = rest.slice(1);
    const b = parseIPv6(hostText);
    if (!b) fail(col, `illegal ${what} address '${text}': '${hostText}' is not an IPv6 address`);
    family = 'inet6';
    address = formatIPv6(b!);
  } else if ((bare = bareIPv6(text)) !== null) {
    family = 'inet6';
    address = formatIPv6(bare);
    hostText = text;
  } else {
    const colon = text.lastIndexOf(':');
    hostText = colon === -1 ? text : text.slice(0, colon);
    portText = colon === -1 ? undefined : text.slice(colon + 1);
    if (hostText === '') fail(col, `illegal ${what} address '${text}': no host`);
    family = 'inet';
    address = inetAton(hostText) ?? undefined;
    if (address === undefined) {
      if (!/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(hostText) || hostText.length > 253) {
        fail(col, `illegal ${what} address '${text}': '${hostText}' is neither an IPv4 address nor a host name`);
      }
      const resolved = names.host(hostText, 'inet');
      const canon = resolved === null ? null : inetAton(resolved);
      if (canon === null) fail(col, `cannot resolve host name '${hostText}' to an IPv4 address`);
      address = canon!;
    }
  }
  let port: number | undefined;
  if (portText !== undefined) {
    const n = decimal(portText);
    if (n !== null) {
      if (!inBound(n, PORT)) fail(col, `port ${portText} out of range ${boundText(PORT)} in '${text}'`);
      port = n;
    } else {
      if (portText === '' || !/^[A-Za-z0-9][A-Za-z0-9_+.-]*$/.test(portText)) {
        fail(col, `illegal port '${portText}' in '${text}'`);
      }
      const p = names.service(portText, protocol);
      if (!inBound(p, PORT)) {
        fail(col, `unknown service name '${portText}' for ${protocol} in '${text}'`);
      }
      port = p!;
    }
  }
  return { family: family!, address: address!, port };
}

/** parseIPv6 for text that may be `a.b.c.d:port`: an IPv6 address has at least two colons, so most lines skip the parse. */
function bareIPv6(text: string): Uint8Array | null {
  const first = text.indexOf(':');
  return first !== -1 && text.indexOf(':', first + 1) !== -1 ? parseIPv6(text) : null;
}

/** What one parse carries from line to line. */
interface ParseContext {
  names: NameTable;
  /**
   * The last virtual service text parsed and its result: the real server
   * lines of a service repeat its -A line's text, so 4 in 5 lines skip the
   * parse (an IPv6 address takes microseconds). Only successes are kept,
   * and those depend on nothing but the text and the protocol.
   */
  lastService: { text: string; protocol: Protocol; hp: HostPort } | null;
}

interface ServiceState {
  key: ServiceKey;
  netmask: string;
  /** the service port ipvsadm copies into real servers (0 for fwmark) */
  port: number;
}

const PROTOCOL_OF: Record<string, Protocol> = { t: 'tcp', u: 'udp', sctp: 'sctp' };

function numberIn(o: ParsedOption, name: string, min: number, max: number, hint = ''): number {
  const n = decimal(o.value ?? '');
  if (n === null) fail(o.column, `${name} '${o.value ?? ''}' is not a number${hint}`);
  if (n! < min || n! > max) fail(o.column, `${name} ${o.value} out of range ${min}..${max}${hint}`);
  return n!;
}

/** Options that describe the service; processed in line order because -6 and -t reset the netmask. */
function readService(pl: ParsedLine, ctx: ParseContext): ServiceState & { spec: ServiceSpec; flagsArg?: ParsedOption } {
  let key: ServiceKey | undefined;
  let port = 0;
  let netmask = '255.255.255.255';
  let af: AddressFamily = 'inet';
  let scheduler: string | undefined;
  // a literal, not a spread: spreading the frozen defaults takes V8's slow path, once per line
  const flags: ServiceFlags = {
    persistent: DEFAULT_FLAGS.persistent, onePacket: DEFAULT_FLAGS.onePacket,
    sched1: DEFAULT_FLAGS.sched1, sched2: DEFAULT_FLAGS.sched2, sched3: DEFAULT_FLAGS.sched3,
  };
  let timeout = 0;
  let pe: string | null = null;
  let flagsArg: ParsedOption | undefined;
  for (const o of pl.options) {
    switch (o.id) {
      case 't': case 'u': case 'sctp': {
        const protocol = PROTOCOL_OF[o.id]!;
        const memo = ctx.lastService;
        let hp: HostPort;
        if (memo !== null && memo.text === o.value && memo.protocol === protocol) {
          hp = memo.hp;
        } else {
          hp = parseHostPort(o, 'virtual service', protocol, ctx.names);
          ctx.lastService = { text: o.value!, protocol, hp };
        }
        af = hp.family;
        if (af === 'inet6') netmask = defaultNetmask('inet6');
        port = hp.port ?? 0;
        key = { kind: 'addr', family: af, protocol, address: hp.address, port };
        break;
      }
      case 'f': {
        const text = o.value ?? '';
        const n = decimal(text);
        // ipvsadm -S prints marks >= 2^31 as negative numbers; take them back as the same 32 bits
        if (n === null || n === 0 || n > FWMARK.max || n < -2147483648) {
          fail(o.column, `invalid fwmark '${text}': expected ${boundText(FWMARK)}`);
        }
        af = 'inet';
        key = { kind: 'fwmark', family: 'inet', fwmark: n! >>> 0 };
        port = 0;
        break;
      }
      case '6':
        if (!key || key.kind !== 'fwmark') fail(o.column, '-6 used before -f (it only marks a fwmark service as IPv6)');
        af = 'inet6';
        key = { ...(key as Extract<ServiceKey, { kind: 'fwmark' }>), family: 'inet6' };
        netmask = defaultNetmask('inet6');
        break;
      case 's': {
        const name = o.value ?? '';
        if (!SCHEDULER_NAMES.includes(name)) {
          fail(o.column, `unknown scheduler '${name}' (known: ${SCHEDULER_NAMES.join(', ')})`);
        }
        scheduler = name;
        break;
      }
      case 'p':
        flags.persistent = true;
        timeout = o.value === undefined
          ? DEFAULT_PERSISTENCE_TIMEOUT
          : numberIn(o, 'persistence timeout', 1, PERSISTENCE_TIMEOUT.max, ' seconds');
        break;
      case 'M': {
        const text = o.value ?? '';
        if (af === 'inet6') {
          if (!/^\d{1,3}$/.test(text) || !inBound(Number(text), IPV6_PREFIX)) {
            fail(o.column, `illegal IPv6 persistence netmask '${text}': expected a prefix length ${boundText(IPV6_PREFIX)}`);
          }
          netmask = String(Number(text));
        } else {
          const m = inetAton(text);
          if (m === null) fail(o.column, `illegal persistence netmask '${text}': expected a dotted quad like 255.255.255.0`);
          // ipvsadm reads `-M 24` as 0.0.0.24; say so rather than only "not contiguous"
          if (!isContiguousV4Mask(m!)) {
            fail(o.column, `persistence netmask '${text}' means ${m} to ipvsadm, which is not a contiguous mask (write e.g. 255.255.255.0)`);
          }
          netmask = m!;
        }
        break;
      }
      case 'pe': {
        const name = o.value ?? '';
        if (!isPeName(name)) {
          fail(o.column, `illegal persistence engine name '${name}': lower-case letters, digits and _, at most ${MAX_NAME_LENGTH}`);
        }
        pe = name;
        break;
      }
      case 'o':
        flags.onePacket = true;
        break;
      case 'b':
        flagsArg = o;
        break;
      default:
        break;
    }
  }
  if (!key) fail(pl.commandColumn, 'no service given (-t, -u, --sctp-service or -f)');
  if (pl.command === 'A' || pl.command === 'E') {
    if (anyPortWithoutPersistence({ key: key!, flags })) {
      fail(pl.commandColumn, 'zero port specified for a non-persistent service (add -p or a port)');
    }
    if (onePacketNotAllowed({ key: key!, flags })) {
      fail(pl.options.find((o) => o.id === 'o')!.column, 'one-packet scheduling (-o) is only for UDP or fwmark services');
    }
    if (flagsArg) {
      const names = (flagsArg.value ?? '').split(',').filter((s) => s !== '');
      if (names.length === 0) fail(flagsArg.column, 'empty scheduler flag list');
      for (const name of names) {
        const m = /^(sh|mh)-(fallback|port)$/.exec(name);
        if (m) {
          if ((scheduler ?? '') !== m[1]) fail(flagsArg.column, `scheduler flag '${name}' needs -s ${m[1]}`);
          if (m[2] === 'fallback') flags.sched1 = true; else flags.sched2 = true;
        } else if (name === 'flag-1') flags.sched1 = true;
        else if (name === 'flag-2') flags.sched2 = true;
        else if (name === 'flag-3') flags.sched3 = true;
        else fail(flagsArg.column, `invalid scheduler flag '${name}' (flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback, mh-port)`);
      }
    }
  }
  // a mask given before -6 or an IPv6 -t was reset by it, as in ipvsadm
  if (af === 'inet6' && !/^\d+$/.test(netmask)) netmask = defaultNetmask('inet6');
  return {
    key: key!, port, netmask,
    spec: { key: key!, scheduler: scheduler ?? 'wlc', flags, timeout, netmask, pe },
  };
}

const FORWARD_OF: Record<string, ForwardMethod> = { m: 'nat', i: 'tun', g: 'dr' };

function optionOf(pl: ParsedLine, id: string): ParsedOption | undefined {
  for (const o of pl.options) if (o.id === id) return o;
  return undefined;
}

function readDestination(pl: ParsedLine, svc: ServiceState, names: NameTable): DestinationSpec {
  let fo: ParsedOption | undefined;
  let tunOpts: ParsedOption[] | null = null;
  for (const o of pl.options) {
    if (fo === undefined && o.id in FORWARD_OF) fo = o;
    else if (o.id.startsWith('tun-')) (tunOpts ??= []).push(o);
  }
  const ro = optionOf(pl, 'r');
  if (!ro) fail(pl.commandColumn, 'a real server line (-a) needs -r address[:port]');
  const protocol: Protocol = svc.key.kind === 'addr' ? svc.key.protocol : 'tcp';
  const hp = parseHostPort(ro!, 'real server', protocol, names);
  const forward: ForwardMethod = fo ? FORWARD_OF[fo.id]! : 'dr';
  let port = hp.port ?? svc.port;
  // ipvsadm forces the service port for DR and TUN real servers of address services (not for -d, which only names one)
  if (svc.key.kind === 'addr' && (forward === 'dr' || forward === 'tun') && pl.command !== 'd') port = svc.port;
  if (hp.family !== svc.key.family && forward !== 'tun') {
    fail(ro!.column, `real server ${destinationArg({ ...hp, port })} is ${hp.family === 'inet' ? 'IPv4' : 'IPv6'} but the service is ${svc.key.family === 'inet' ? 'IPv4' : 'IPv6'}: a different address family needs tunnelling (-i)`);
  }
  const unusable = realServerProblem(hp.family, hp.address);
  if (unusable) fail(ro!.column, `illegal real server '${ro!.value}': ${unusable}`);
  const wo = optionOf(pl, 'w');
  const weight = wo ? numberIn(wo, 'weight', WEIGHT.min, WEIGHT.max) : 1;
  const xo = optionOf(pl, 'x');
  const yo = optionOf(pl, 'y');
  const upperThreshold = xo ? numberIn(xo, 'u-threshold', THRESHOLD.min, THRESHOLD.max) : 0;
  const lowerThreshold = yo ? numberIn(yo, 'l-threshold', THRESHOLD.min, THRESHOLD.max) : 0;
  if (lowerThreshold > upperThreshold) {
    fail(yo!.column, upperThreshold === 0
      ? `l-threshold ${lowerThreshold} needs an u-threshold (-x) at least as large; the kernel refuses it`
      : `l-threshold ${lowerThreshold} is above u-threshold ${upperThreshold}; the kernel refuses it`);
  }
  const tunnel = { type: DEFAULT_TUNNEL.type, port: DEFAULT_TUNNEL.port, checksum: DEFAULT_TUNNEL.checksum };
  if (tunOpts !== null && forward !== 'tun') {
    fail(tunOpts[0]!.column, `tunnel option '${tunOpts[0]!.spelled}' conflicts with forwarding method ${fo?.spelled ?? '-g (default)'}: tunnel options need -i`);
  }
  if (forward === 'tun') {
    const to = optionOf(pl, 'tun-type');
    if (to) {
      if (!(TUNNEL_TYPES as readonly string[]).includes(to.value!)) {
        fail(to.column, `illegal tunnel type '${to.value ?? ''}' (ipip, gue or gre)`);
      }
      tunnel.type = to.value as TunnelType;
    }
    const po = optionOf(pl, 'tun-port');
    const csums = (tunOpts ?? []).filter((o) => o.id === 'tun-nocsum' || o.id === 'tun-csum' || o.id === 'tun-remcsum');
    if (csums.length > 1) fail(csums[1]!.column, `'${csums[1]!.spelled}' conflicts with '${csums[0]!.spelled}'`);
    const cs = csums[0];
    if (tunnel.type === 'gue') {
      if (!po) fail(to!.column, "a 'gue' tunnel needs --tun-port");
      tunnel.port = numberIn(po!, 'tunnel port', GUE_PORT.min, GUE_PORT.max);
    } else if (po) {
      fail(po.column, `--tun-port is not allowed with the '${tunnel.type}' tunnel type`);
    }
    if (cs) {
      if (tunnel.type === 'ipip') fail(cs.column, `'${cs.spelled}' is not allowed with the 'ipip' tunnel type`);
      if (tunnel.type === 'gre' && cs.id === 'tun-remcsum') fail(cs.column, "'--tun-remcsum' is not allowed with the 'gre' tunnel type");
      tunnel.checksum = cs.id.slice(4) as TunnelChecksum;
    }
  }
  return { family: hp.family, address: hp.address, port, forward, weight, upperThreshold, lowerThreshold, tunnel };
}

interface LineResult {
  line: number;
  kind: 'A' | 'a';
  svc: ServiceState;
  spec?: ServiceSpec;
  dest?: DestinationSpec;
  serviceColumn: number;
  destColumn: number;
}

function zodMessage(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/**
 * The shared schemas have the last word on every line; quickServiceSpec and
 * quickDestinationSpec give their answer for the complete, canonical values
 * the parser builds at a fraction of zod's cost, and zod runs (and words the
 * refusal) whenever they cannot vouch for a value.
 */
function checkService(spec: ServiceSpec, column: number): ServiceSpec {
  const quick = quickServiceSpec(spec);
  if (quick) return quick;
  const checked = serviceSpecSchema.safeParse(spec);
  if (!checked.success) fail(column, zodMessage(checked.error.issues));
  return checked.data!;
}

function checkDestination(dest: DestinationSpec, column: number): DestinationSpec {
  const quick = quickDestinationSpec(dest);
  if (quick) return quick;
  const checked = destinationSpecSchema.safeParse(dest);
  if (!checked.success) fail(column, zodMessage(checked.error.issues));
  return checked.data!;
}

function readLine(pl: ParsedLine, ctx: ParseContext): LineResult {
  const svc = readService(pl, ctx);
  let serviceColumn = pl.commandColumn;
  for (const o of pl.options) if (o.id in PROTOCOL_OF || o.id === 'f') { serviceColumn = o.column; break; }
  if (pl.command === 'A') {
    return { line: pl.line, kind: 'A', svc, spec: checkService(svc.spec, pl.commandColumn), serviceColumn, destColumn: serviceColumn };
  }
  const dest = readDestination(pl, svc, ctx.names);
  const destColumn = optionOf(pl, 'r')?.column ?? pl.commandColumn;
  return { line: pl.line, kind: 'a', svc, dest: checkDestination(dest, destColumn), serviceColumn, destColumn };
}

/** One line's model, its error, or NameNeeded when it must wait for a lookup. */
function tryLine(pl: ParsedLine, ctx: ParseContext): LineResult | SnapshotError | NameNeeded {
  try {
    return readLine(pl, ctx);
  } catch (e) {
    if (e instanceof LineFailure) return { line: pl.line, column: e.column, message: e.message };
    if (e instanceof NameNeeded) return e;
    throw e;
  }
}

const SCAN_LIMIT = 16;

/** A service of the file and its real servers, in file order. */
interface Entry {
  spec: ServiceSpec;
  line: number;
  dests: { d: DestinationSpec; line: number }[];
  /** destinationId -> index in dests, built once there are too many to scan (most services have a handful) */
  index: Map<string, number> | null;
}

function findDestination(e: Entry, d: DestinationSpec): { d: DestinationSpec; line: number } | undefined {
  if (e.index) {
    const i = e.index.get(destinationId(d));
    return i === undefined ? undefined : e.dests[i];
  }
  for (const x of e.dests) if (sameDestinationKey(x.d, d)) return x;
  return undefined;
}

function addDestination(e: Entry, x: { d: DestinationSpec; line: number }): void {
  e.dests.push(x);
  if (e.index) e.index.set(destinationId(x.d), e.dests.length - 1);
  else if (e.dests.length > SCAN_LIMIT) e.index = new Map(e.dests.map((y, i) => [destinationId(y.d), i]));
}

export async function parseSnapshot(text: string, opts: ParseOptions = {}): Promise<ParsedSnapshot> {
  const ctx: ParseContext = { names: new NameTable(opts.resolver ?? numericOnly), lastService: null };
  const maxErrors = opts.maxErrors ?? 100;
  const errors: SnapshotError[] = [];
  // every line is read at once, without awaiting; lines that name hosts or
  // services wait here for one batch of lookups per round (a line asks for
  // its names one at a time, so it may take a round for each)
  const results: (LineResult | SnapshotError)[] = [];
  let waiting: { pl: ParsedLine; slot: number }[] = [];
  const garbage = hasGarbage(text);
  // lines as text.split('\n') would cut them, read in place
  for (let start = 0, line = 1; start <= text.length; line++) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const from = start;
    start = end + 1;
    const bad = garbage ? findGarbage(text.slice(from, end)) : null;
    if (bad) {
      errors.push({ line, column: bad.column, message: `unexpected byte ${bad.code === 0xfffd ? '(invalid UTF-8)' : `0x${bad.code.toString(16).padStart(2, '0')}`} at column ${bad.column}: not a text line` });
      continue;
    }
    const words = splitWords(text, from, end);
    if (words.length === 0) continue;
    const pl = parseLineOptions(line, words);
    if ('message' in pl) { errors.push(pl); continue; }
    const r = tryLine(pl, ctx);
    if (r instanceof NameNeeded) waiting.push({ pl, slot: results.length });
    results.push(r as LineResult | SnapshotError);
  }
  while (waiting.length > 0) {
    await ctx.names.lookupPending();
    const still: typeof waiting = [];
    for (const w of waiting) {
      const r = tryLine(w.pl, ctx);
      if (r instanceof NameNeeded) still.push(w);
      else results[w.slot] = r;
    }
    waiting = still;
  }

  // Services first, so a real server may precede its -A line (ipvsadm would need the order; Director does not).
  const table = new Map<string, Entry>();
  for (const res of results) {
    if ('message' in res) { errors.push(res); continue; }
    if (res.kind !== 'A') continue;
    const id = serviceId(res.svc.key);
    const prev = table.get(id);
    if (prev) {
      errors.push({ line: res.line, column: res.serviceColumn, message: `duplicate service ${serviceArg(res.svc.key)}: already defined on line ${prev.line}` });
      continue;
    }
    table.set(id, { spec: res.spec!, line: res.line, dests: [], index: null });
  }
  // real servers mostly follow their service, so the previous line's service is usually this line's
  let lastKey: ServiceKey | null = null;
  let lastEntry: Entry | undefined;
  for (const res of results) {
    if ('message' in res || res.kind !== 'a') continue;
    const key = res.svc.key;
    const entry = lastKey !== null && sameServiceKey(key, lastKey) ? lastEntry : table.get(serviceId(key));
    lastKey = key;
    lastEntry = entry;
    if (!entry) {
      errors.push({ line: res.line, column: res.serviceColumn, message: `real server for undefined service ${serviceArg(key)}: no -A line in this file defines it` });
      continue;
    }
    const d = res.dest!;
    const prev = findDestination(entry, d);
    if (prev) {
      errors.push({ line: res.line, column: res.destColumn, message: `duplicate real server ${destinationArg(d)} in service ${serviceArg(key)}: already on line ${prev.line}` });
      continue;
    }
    addDestination(entry, { d, line: res.line });
  }

  if (errors.length > 0) {
    errors.sort((a, b) => a.line - b.line || (a.column ?? 0) - (b.column ?? 0));
    return { services: [], lines: [], errors: errors.slice(0, maxErrors) };
  }
  const entries = [...table.values()].sort((a, b) => a.line - b.line);
  return {
    services: entries.map((e) => ({ ...e.spec, destinations: e.dests.map((x) => x.d) })),
    lines: entries.map((e) => ({ service: e.line, destinations: e.dests.map((x) => x.line) })),
    errors: [],
  };
}

/** What the service and real-server options of one ipvsadm command line say (-A -E -D -a -e -d -Z -L). */
export interface CommandObjects {
  /** the service named by -t/-u/--sctp-service/-f, if any */
  service?: ServiceKey;
  /** -A/-E: the whole service as ipvsadm would send it (omitted options take their defaults) */
  spec?: ServiceSpec;
  /** -a/-e: the whole real server; -d: its key (the other fields are defaults) */
  destination?: DestinationSpec;
}

/**
 * Reads the service and real-server options of a command line parsed with
 * parseLineOptions(..., 'command'), with every check a restore line gets.
 * Errors carry the column (argument number) of the option at fault.
 */
export async function readCommandObjects(pl: ParsedLine, resolver: NameResolver = numericOnly): Promise<CommandObjects | LineError> {
  const ctx: ParseContext = { names: new NameTable(resolver), lastService: null };
  const hasService = pl.options.some((o) => o.id in PROTOCOL_OF || o.id === 'f');
  for (;;) {
    try {
      if (!hasService) {
        if (['A', 'E', 'D', 'a', 'e', 'd'].includes(pl.command)) fail(pl.commandColumn, 'no service given (-t, -u, --sctp-service or -f)');
        return {};
      }
      const svc = readService(pl, ctx);
      if (pl.command === 'A' || pl.command === 'E') return { service: svc.key, spec: checkService(svc.spec, pl.commandColumn) };
      if (pl.command === 'a' || pl.command === 'e' || pl.command === 'd') {
        const dest = readDestination(pl, svc, ctx.names);
        return { service: svc.key, destination: checkDestination(dest, optionOf(pl, 'r')?.column ?? pl.commandColumn) };
      }
      return { service: svc.key };
    } catch (e) {
      if (e instanceof LineFailure) return { line: pl.line, ...(e.column !== undefined ? { column: e.column } : {}), message: e.message };
      if (e instanceof NameNeeded) { await ctx.names.lookupPending(); continue; }
      throw e;
    }
  }
}
