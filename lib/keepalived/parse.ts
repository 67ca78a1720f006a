/**
 * keepalived.conf -> Director: `virtual_server` (address, fwmark or group)
 * with its `real_server`s becomes ServiceRules, their checkers and timing a
 * health config. Defaults are keepalived's (reference §9.3/§9.4), with its
 * warnings. Anything Director cannot honour is an error naming the line, and
 * a file with errors yields nothing to apply. VRRP and global blocks are
 * another issue's: recognised and skipped with a note.
 */
import {
  DEFAULT_FLAGS, DEFAULT_PERSISTENCE_TIMEOUT, DEFAULT_TUNNEL, type AddressFamily, type DestinationSpec, type ForwardMethod,
  type Protocol, type ServiceKey, type ServiceRules, type TunnelSpec,
} from '../ipvs/model';
import { formatServiceKey } from '../ipvs/format';
import { sameServiceKey } from '../ipvs/ids';
import {
  FWMARK, GUE_PORT, PERSISTENCE_TIMEOUT, PORT, SCHEDULER_NAMES, THRESHOLD, TUNNEL_CHECKSUMS, TUNNEL_TYPES, WEIGHT, defaultNetmask,
} from '../ipvs/rules';
import { canonicalAddress, familyOf, formatIPv4, parseIPv4 } from '../net/ip';
import { DEFAULT_CHECKS_DIR, healthTableSchema, SCRIPT_NAME_RE, type Check, type HealthServiceConfig, type HttpUrl, type Timing } from '../schemas/health';
import { serviceTableSchema } from '../schemas/ipvs';
import { readStatements, type Diagnostic, type IncludeReader, type Pos, type Stmt } from './lex';

export type { Diagnostic, IncludeReader } from './lex';

export interface KeepalivedImport {
  services: ServiceRules[];
  health: HealthServiceConfig[];
  errors: Diagnostic[];
  warnings: Diagnostic[];
  /** blocks recognised and not imported (VRRP, globals) */
  notes: Diagnostic[];
  /** where each service came from, parallel to services */
  positions: Pos[];
}

const SKIPPED_BLOCKS = new Set([
  'global_defs', 'vrrp_script', 'vrrp_sync_group', 'vrrp_instance', 'static_ipaddress', 'static_routes', 'static_rules',
  'linkbeat_interfaces', 'SSL', 'bfd_instance', 'vrrp_track_process', 'track_file', 'net_namespace', 'instance',
]);
/** accepted and without effect on what Director does */
const IGNORED = new Set(['smtp_alert', 'snmp_name', 'log_all_failures', 'omega', 'hashed', 'sorry_server_inhibit']);
/** keepalived features Director does not implement: importing them would silently change behaviour */
const UNSUPPORTED: Record<string, string> = {
  quorum_up: 'quorum scripts are not run by Director',
  quorum_down: 'quorum scripts are not run by Director',
  hysteresis: 'quorum hysteresis is not supported',
  notify_up: 'notify scripts are not run by Director (watch health.onTransition instead)',
  notify_down: 'notify scripts are not run by Director (watch health.onTransition instead)',
  ha_suspend: 'ha_suspend needs VRRP, which this import does not cover',
  SMTP_CHECK: 'SMTP_CHECK is not supported (use TCP_CHECK or MISC_CHECK)',
  DNS_CHECK: 'DNS_CHECK is not supported (use MISC_CHECK)',
  UDP_CHECK: 'UDP_CHECK is not supported (use MISC_CHECK)',
  PING_CHECK: 'PING_CHECK is not supported: a ping proves only the IP layer; use HTTP_GET or TCP_CHECK',
  FILE_CHECK: 'FILE_CHECK is not supported (use MISC_CHECK)',
  BFD_CHECK: 'BFD_CHECK is not supported',
  bindto: 'checks always leave from the director\'s own address (bindto is not supported)',
  bind_if: 'bind_if is not supported',
  bind_port: 'bind_port is not supported',
  user: 'MISC_CHECK user is not supported: scripts run as the agent\'s check user (director agent --check-user)',
  regex_no_match: 'regex_no_match is not supported',
  regex_options: 'regex_options is not supported',
  regex_stop: 'regex_stop is not supported',
  regex_min_offset: 'regex offsets are not supported',
  regex_max_offset: 'regex offsets are not supported',
};

interface Ctx {
  /** the agent's checks folder: misc_path must name a script in it */
  checksDir: string;
  errors: Diagnostic[];
  warnings: Diagnostic[];
  notes: Diagnostic[];
  groups: Map<string, { keys: { address?: string; family: AddressFamily; port: number | null; fwmark?: number }[]; pos: Pos }>;
}

const err = (c: Ctx, s: { pos: Pos }, message: string) => c.errors.push({ ...s.pos, message });
const warn = (c: Ctx, s: { pos: Pos }, message: string) => c.warnings.push({ ...s.pos, message });

function num(c: Ctx, s: Stmt, text: string | undefined, what: string, min: number, max: number, int = true): number | null {
  const v = text === undefined ? NaN : Number(text);
  if (text === undefined || text === '' || !Number.isFinite(v) || (int && !Number.isInteger(v)) || v < min || v > max) {
    err(c, s, `${s.name}: ${what} must be ${int ? 'a whole number' : 'a number'} from ${min} to ${max}${text === undefined ? '' : `, got '${text}'`}`);
    return null;
  }
  return v;
}

function oneArg(c: Ctx, s: Stmt, n = 1): boolean {
  if (s.args.length !== n) {
    err(c, s, `${s.name} takes ${n === 0 ? 'no value' : n === 1 ? 'one value' : `${n} values`}, got ${s.args.length}`);
    return false;
  }
  return true;
}

function bool(c: Ctx, s: Stmt): boolean | null {
  if (s.args.length === 0) return true;
  const v = s.args[0]!.toLowerCase();
  if (['on', 'true', 'yes'].includes(v)) return true;
  if (['off', 'false', 'no'].includes(v)) return false;
  err(c, s, `${s.name}: expected on/off, true/false or yes/no, got '${s.args[0]}'`);
  return null;
}

function addr(c: Ctx, s: Stmt, text: string | undefined): { address: string; family: AddressFamily } | null {
  const canon = text ? canonicalAddress(text) : null;
  if (!text || !canon) {
    err(c, s, `${s.name}: '${text ?? ''}' is not an IPv4 or IPv6 address (host names are not resolved)`);
    return null;
  }
  return { address: canon, family: familyOf(canon)! };
}

function port(c: Ctx, s: Stmt, text: string | undefined): number | null {
  return text === undefined ? null : num(c, s, text, 'port', PORT.min, PORT.max);
}

function method(c: Ctx, s: Stmt): { forward: ForwardMethod; tunnel: TunnelSpec } | null {
  const [m, ...rest] = s.args;
  const kind = m?.toUpperCase();
  if (kind === 'NAT' || kind === 'DR') {
    if (rest.length) err(c, s, `${s.name} ${kind} takes no options, got '${rest.join(' ')}'`);
    return { forward: kind === 'NAT' ? 'nat' : 'dr', tunnel: { ...DEFAULT_TUNNEL } };
  }
  if (kind !== 'TUN') {
    err(c, s, `${s.name}: expected NAT, DR or TUN, got '${m ?? ''}'`);
    return null;
  }
  const tunnel: TunnelSpec = { ...DEFAULT_TUNNEL };
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (w === 'type') {
      const t = rest[++i];
      if ((TUNNEL_TYPES as readonly (string | undefined)[]).includes(t)) tunnel.type = t as TunnelSpec['type'];
      else err(c, s, `${s.name} TUN type: expected ipip, gue or gre, got '${t ?? ''}'`);
    } else if (w === 'port') {
      const p = num(c, s, rest[++i], 'tunnel port', GUE_PORT.min, GUE_PORT.max);
      if (p !== null) tunnel.port = p;
    } else if ((TUNNEL_CHECKSUMS as readonly string[]).includes(w)) {
      tunnel.checksum = w as TunnelSpec['checksum'];
    } else {
      err(c, s, `${s.name} TUN: unknown option '${w}'`);
    }
  }
  return { forward: 'tun', tunnel };
}

const TIMING_WORDS: Record<string, keyof Timing> = {
  delay_loop: 'delayLoop', connect_timeout: 'connectTimeout', retry: 'retry', nb_get_retry: 'retry',
  delay_before_retry: 'delayBeforeRetry', warmup: 'warmup',
};

function timingWord(c: Ctx, s: Stmt, t: Timing): boolean {
  const field = TIMING_WORDS[s.name];
  if (!field) return false;
  if (s.name === 'nb_get_retry') warn(c, s, 'nb_get_retry is the old spelling of retry');
  if (!oneArg(c, s)) return true;
  const v = field === 'retry'
    ? num(c, s, s.args[0], 'retry', 0, 100)
    : num(c, s, s.args[0], 'seconds', field === 'delayLoop' || field === 'connectTimeout' ? 0.1 : 0, 86_400, false);
  if (v !== null) t[field] = v;
  return true;
}

function parseUrl(c: Ctx, b: Stmt): HttpUrl | null {
  const url: Partial<HttpUrl> & { statusCodes?: string[] } = {};
  for (const s of b.block ?? []) {
    switch (s.name) {
      case 'path':
        if (oneArg(c, s)) url.path = s.args[0]!;
        break;
      case 'status_code':
        if (s.args.length === 0) err(c, s, 'status_code needs at least one code or range');
        for (const a of s.args) {
          if (!/^\d{3}(-\d{3})?$/.test(a)) err(c, s, `status_code: '${a}' is not a code like 200 or a range like 200-299`);
        }
        url.statusCodes = [...(url.statusCodes ?? []), ...s.args];
        break;
      case 'digest':
        if (oneArg(c, s)) {
          if (/^[0-9a-fA-F]{32}$/.test(s.args[0]!)) url.digest = s.args[0]!.toLowerCase();
          else err(c, s, `digest: '${s.args[0]}' is not an MD5 in 32 hex digits`);
        }
        break;
      case 'virtualhost':
        if (oneArg(c, s)) url.virtualhost = s.args[0]!;
        break;
      case 'regex':
        if (oneArg(c, s)) {
          try {
            new RegExp(s.args[0]!);
            url.regex = s.args[0]!;
          } catch {
            err(c, s, `regex: '${s.args[0]}' is not a regular expression Director can run`);
          }
        }
        break;
      default:
        unknown(c, s, 'url');
    }
  }
  if (!url.path) {
    err(c, b, 'url needs a path');
    return null;
  }
  // keepalived accepts any 2xx when no status_code is given
  return { path: url.path, statusCodes: url.statusCodes ?? ['200-299'], ...(url.digest ? { digest: url.digest } : {}), ...(url.regex ? { regex: url.regex } : {}), ...(url.virtualhost ? { virtualhost: url.virtualhost } : {}) };
}

function unknown(c: Ctx, s: Stmt, where: string): void {
  if (UNSUPPORTED[s.name]) err(c, s, `${s.name}: ${UNSUPPORTED[s.name]}`);
  else if (IGNORED.has(s.name)) warn(c, s, `${s.name} is ignored by Director`);
  else err(c, s, `unknown keyword '${s.name}' in ${where}`);
}

/**
 * misc_path -> a script name. Director runs only scripts from its checks
 * folder, with the real server's address and port as the arguments: a path
 * elsewhere, or a command line with arguments, is refused.
 */
function miscScript(c: Ctx, s: Stmt): string | undefined {
  if (!oneArg(c, s)) return undefined;
  const v = s.args[0]!;
  const dir = c.checksDir.replace(/\/+$/, '');
  if (/\s/.test(v.trim())) {
    err(c, s, `misc_path: '${v}' has arguments; Director runs a script from ${dir} with only the real server's address and port as its arguments`);
    return undefined;
  }
  const name = v.trim().startsWith(`${dir}/`) ? v.trim().slice(dir.length + 1) : null;
  if (name === null || !SCRIPT_NAME_RE.test(name)) {
    err(c, s, `misc_path: '${v}' is not a script in the checks folder ${dir}: Director runs only scripts from there (root-owned, not group- or world-writable)`);
    return undefined;
  }
  return name;
}

function parseChecker(c: Ctx, b: Stmt, rsAddress: string): Check | null {
  const timing: Timing = {};
  if (b.args.length) err(c, b, `${b.name} takes no arguments`);
  const kind = b.name;
  const urls: HttpUrl[] = [];
  let connectPort: number | undefined;
  let virtualhost: string | undefined;
  let script: string | undefined;
  let pathRefused = false;
  let timeoutSec: number | undefined;
  let dynamic = false;
  for (const s of b.block ?? []) {
    if (timingWord(c, s, timing)) continue;
    const http = kind === 'HTTP_GET' || kind === 'SSL_GET';
    if (http && s.name === 'url') {
      const u = parseUrl(c, s);
      if (u) urls.push(u);
    } else if (http && s.name === 'virtualhost') {
      if (oneArg(c, s)) virtualhost = s.args[0]!;
    } else if (http && ['http_protocol', 'fast_recovery', 'enable_sni', 'sni_name', 'tls_compliant'].includes(s.name)) {
      warn(c, s, `${s.name} is ignored by Director (HTTP/1.1 with Connection: close; up on the first success)`);
    } else if (kind !== 'MISC_CHECK' && s.name === 'connect_port') {
      if (oneArg(c, s)) connectPort = num(c, s, s.args[0], 'connect port', 1, 65535) ?? undefined;
    } else if (kind !== 'MISC_CHECK' && s.name === 'connect_ip') {
      const a = addr(c, s, s.args[0]);
      if (a && a.address !== rsAddress) {
        err(c, s, `connect_ip ${a.address} is not the real server's address ${rsAddress}: Director checks only real-server addresses`);
      }
    } else if (kind !== 'MISC_CHECK' && s.name === 'fwmark') {
      err(c, s, 'a checker fwmark is not supported');
    } else if (kind === 'MISC_CHECK' && s.name === 'misc_path') {
      script = miscScript(c, s);
      pathRefused ||= script === undefined;
    } else if (kind === 'MISC_CHECK' && s.name === 'misc_timeout') {
      if (oneArg(c, s)) timeoutSec = num(c, s, s.args[0], 'seconds', 0.1, 86_400, false) ?? undefined;
    } else if (kind === 'MISC_CHECK' && s.name === 'misc_dynamic') {
      dynamic = true;
    } else if (s.name === 'alpha') {
      warn(c, s, 'alpha is ignored: Director starts every check in state unknown and acts on the first result');
    } else {
      unknown(c, s, kind);
    }
  }
  const t = { timing };
  if (kind === 'TCP_CHECK') return { type: 'tcp', ...(connectPort ? { connectPort } : {}), ...t };
  if (kind === 'MISC_CHECK') {
    if (!script) {
      if (!pathRefused) err(c, b, 'MISC_CHECK needs misc_path');
      return null;
    }
    return { type: 'misc', script, dynamic, ...(timeoutSec !== undefined ? { timeoutSec } : {}), ...t };
  }
  if (urls.length === 0) {
    err(c, b, `${kind} needs at least one url { path ... }`);
    return null;
  }
  return { type: 'http', tls: kind === 'SSL_GET', urls, ...(virtualhost ? { virtualhost } : {}), ...(connectPort ? { connectPort } : {}), ...t };
}

interface RsOut {
  dest: DestinationSpec;
  checks: Check[];
  onFailure?: 'quiesce' | 'remove';
  forwardSet: boolean;
}

function parseRealServer(c: Ctx, b: Stmt, vsTiming: Timing): RsOut | null {
  if (b.args.length < 1 || b.args.length > 2) err(c, b, 'real_server takes an address and an optional port');
  const a = addr(c, b, b.args[0]);
  const p = b.args[1] === undefined ? 0 : port(c, b, b.args[1]);
  if (!a || p === null) return null;
  const dest: DestinationSpec = { ...a, port: p, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL } };
  const rsTiming: Timing = {};
  const checks: Check[] = [];
  let forwardSet = false;
  let onFailure: 'quiesce' | 'remove' | undefined;
  let virtualhost: string | undefined;
  for (const s of b.block ?? []) {
    if (timingWord(c, s, rsTiming)) continue;
    switch (s.name) {
      case 'weight': {
        const w = oneArg(c, s) ? num(c, s, s.args[0], 'weight', WEIGHT.min, WEIGHT.max) : null;
        if (w !== null) dest.weight = w;
        break;
      }
      case 'lvs_method':
      case 'lb_kind': {
        const m = method(c, s);
        if (m) {
          dest.forward = m.forward;
          dest.tunnel = m.tunnel;
          forwardSet = true;
        }
        break;
      }
      case 'uthreshold':
      case 'lthreshold': {
        const v = oneArg(c, s) ? num(c, s, s.args[0], 'threshold', THRESHOLD.min, THRESHOLD.max) : null;
        if (v !== null) dest[s.name === 'uthreshold' ? 'upperThreshold' : 'lowerThreshold'] = v;
        break;
      }
      case 'inhibit_on_failure': {
        const v = bool(c, s);
        if (v !== null) onFailure = v ? 'quiesce' : 'remove';
        break;
      }
      case 'virtualhost':
        if (oneArg(c, s)) virtualhost = s.args[0]!;
        break;
      case 'alpha':
        warn(c, s, 'alpha is ignored: Director starts every check in state unknown and acts on the first result');
        break;
      case 'HTTP_GET':
      case 'SSL_GET':
      case 'TCP_CHECK':
      case 'MISC_CHECK': {
        if (!s.block) {
          err(c, s, `${s.name} needs a block { ... }`);
          break;
        }
        const ch = parseChecker(c, s, a.address);
        if (ch) {
          // real_server-level timing is the default for its checkers, under the checker's own
          ch.timing = { ...rsTiming, ...ch.timing };
          if (ch.type === 'http' && !ch.virtualhost && virtualhost) ch.virtualhost = virtualhost;
          checks.push(ch);
        }
        break;
      }
      default:
        unknown(c, s, 'real_server');
    }
  }
  void vsTiming;
  return { dest, checks, ...(onFailure ? { onFailure } : {}), forwardSet };
}

function parseGroup(c: Ctx, b: Stmt): void {
  const name = b.args[0];
  if (!name || b.args.length !== 1) {
    err(c, b, 'virtual_server_group takes one name');
    return;
  }
  if (c.groups.has(name)) err(c, b, `virtual_server_group ${name} is defined twice`);
  const keys: { address?: string; family: AddressFamily; port: number | null; fwmark?: number }[] = [];
  for (const s of b.block ?? []) {
    if (s.name === 'fwmark') {
      const m = num(c, s, s.args[0], 'fwmark', FWMARK.min, FWMARK.max);
      const fam = s.args[1];
      if (fam !== undefined && fam !== 'inet' && fam !== 'inet6') err(c, s, `fwmark family must be inet or inet6, got '${fam}'`);
      if (m !== null) keys.push({ fwmark: m, family: fam === 'inet6' ? 'inet6' : 'inet', port: null });
      continue;
    }
    const p = s.args[0] === undefined ? null : port(c, s, s.args[0]);
    if (s.args.length > 1) err(c, s, 'a group entry is an address (or range) and an optional port');
    for (const a of expandRange(c, s, s.name)) keys.push({ address: a, family: familyOf(a)!, port: p });
  }
  c.groups.set(name, { keys, pos: b.pos });
}

const v4n = (b: Uint8Array) => ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
const v4s = (n: number) => formatIPv4(new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]));

/** 10.0.0.1, 10.0.0.1-10 (last octet), 10.0.0.250-10.0.1.10, 10.0.0.8/29: at most 256 addresses. */
function expandRange(c: Ctx, s: Stmt, text: string): string[] {
  const single = canonicalAddress(text);
  if (single) return [single];
  let lo: number | null = null, hi: number | null = null;
  const cidr = /^([\d.]+)\/(\d+)$/.exec(text);
  const range = /^([\d.]+)-([\d.]+)$/.exec(text);
  if (cidr && parseIPv4(cidr[1]!) && Number(cidr[2]) >= 24 && Number(cidr[2]) <= 32) {
    const size = 2 ** (32 - Number(cidr[2]));
    lo = v4n(parseIPv4(cidr[1]!)!) & ~(size - 1);
    lo >>>= 0;
    hi = lo + size - 1;
  } else if (range && parseIPv4(range[1]!)) {
    lo = v4n(parseIPv4(range[1]!)!);
    const end = /^\d{1,3}$/.test(range[2]!) ? ((lo & ~255) >>> 0) + Number(range[2]) : parseIPv4(range[2]!) ? v4n(parseIPv4(range[2]!)!) : null;
    hi = end;
  }
  if (lo === null || hi === null || hi < lo || hi - lo >= 256 || (range && /^\d{1,3}$/.test(range[2]!) && Number(range[2]) > 255)) {
    err(c, s, `'${text}' is not an address or an IPv4 range Director can expand (a.b.c.d-e, a.b.c.d-a.b.c.e, a.b.c.d/24..32; at most 256 addresses)`);
    return [];
  }
  const out: string[] = [];
  for (let n = lo; n <= hi; n++) out.push(v4s(n));
  return out;
}

interface VsOut {
  services: ServiceRules[];
  health: HealthServiceConfig[];
}

function parseVirtualServer(c: Ctx, b: Stmt): VsOut {
  const out: VsOut = { services: [], health: [] };
  const [h0, h1, h2] = b.args;
  type Head = { kind: 'addr'; address: string; family: AddressFamily; port: number | null } | { kind: 'fwmark'; fwmark: number; family: AddressFamily | null };
  const heads: Head[] = [];
  if (h0 === 'fwmark') {
    const m = num(c, b, h1, 'fwmark', FWMARK.min, FWMARK.max);
    if (m !== null) heads.push({ kind: 'fwmark', fwmark: m, family: null });
    if (h2 !== undefined) err(c, b, 'virtual_server fwmark takes one number');
  } else if (h0 === 'group') {
    const g = h1 === undefined ? undefined : c.groups.get(h1);
    if (!g) err(c, b, `virtual_server_group '${h1 ?? ''}' is not defined (groups must come before their virtual_server)`);
    for (const k of g?.keys ?? []) {
      heads.push(k.fwmark !== undefined ? { kind: 'fwmark', fwmark: k.fwmark, family: k.family } : { kind: 'addr', address: k.address!, family: k.family, port: k.port });
    }
  } else {
    const a = addr(c, b, h0);
    const p = h1 === undefined ? null : port(c, b, h1);
    if (b.args.length > 2) err(c, b, 'virtual_server takes an address and a port, fwmark N, or group NAME');
    if (a) heads.push({ kind: 'addr', ...a, port: p });
  }

  let scheduler: string | null = null;
  let defMethod: { forward: ForwardMethod; tunnel: TunnelSpec } | null = null;
  let protocol: Protocol | null = null;
  let protoStmt: Stmt | null = null;
  const flags = { ...DEFAULT_FLAGS };
  let timeout = 0;
  let netmask: string | null = null;
  let pe: string | null = null;
  let ipFamily: AddressFamily | null = null;
  const timing: Timing = {};
  let onFailure: 'quiesce' | 'remove' = 'remove';
  let sorry: { stmt: Stmt; address: string; family: AddressFamily; port: number } | null = null;
  let sorryMethod: { forward: ForwardMethod; tunnel: TunnelSpec } | null = null;
  let vhost: string | undefined;
  const rss: RsOut[] = [];
  const schedFlag: { s: Stmt; flag: string }[] = [];

  for (const s of b.block ?? []) {
    if (timingWord(c, s, timing)) continue;
    switch (s.name) {
      case 'lvs_sched':
      case 'lb_algo':
        if (oneArg(c, s)) {
          if (SCHEDULER_NAMES.includes(s.args[0]!)) scheduler = s.args[0]!;
          else err(c, s, `${s.name}: unknown scheduler '${s.args[0]}' (expected one of ${SCHEDULER_NAMES.join(' ')})`);
        }
        break;
      case 'lvs_method':
      case 'lb_kind':
        defMethod = method(c, s) ?? defMethod;
        break;
      case 'protocol': {
        const v = s.args[0]?.toUpperCase();
        if (oneArg(c, s) && (v === 'TCP' || v === 'UDP' || v === 'SCTP')) {
          protocol = v.toLowerCase() as Protocol;
          protoStmt = s;
        } else if (s.args.length === 1) err(c, s, `protocol: expected TCP, UDP or SCTP, got '${s.args[0]}'`);
        break;
      }
      case 'persistence_timeout': {
        flags.persistent = true;
        timeout = s.args.length === 0 ? DEFAULT_PERSISTENCE_TIMEOUT : num(c, s, s.args[0], 'seconds', 1, PERSISTENCE_TIMEOUT.max) ?? DEFAULT_PERSISTENCE_TIMEOUT;
        break;
      }
      case 'persistence_granularity':
        if (oneArg(c, s)) {
          netmask = s.args[0]!;
          flags.persistent = true;
        }
        break;
      case 'persistence_engine':
        if (oneArg(c, s)) {
          if (s.args[0] === 'sip') pe = 'sip';
          else err(c, s, `persistence_engine: only sip exists, got '${s.args[0]}'`);
        }
        break;
      case 'ops':
        flags.onePacket = true;
        break;
      case 'flag-1': case 'flag-2': case 'flag-3': case 'sh-port': case 'sh-fallback': case 'mh-port': case 'mh-fallback':
        // keepalived accepts sh-*/mh-* only once the scheduler is known
        if (s.name.startsWith('sh-') && scheduler !== 'sh') err(c, s, `${s.name} needs lvs_sched sh (it must come after it)`);
        else if (s.name.startsWith('mh-') && scheduler !== 'mh') err(c, s, `${s.name} needs lvs_sched mh (it must come after it)`);
        else schedFlag.push({ s, flag: s.name });
        break;
      case 'ip_family':
        if (oneArg(c, s)) {
          if (s.args[0] === 'inet' || s.args[0] === 'inet6') ipFamily = s.args[0];
          else err(c, s, `ip_family: expected inet or inet6, got '${s.args[0]}'`);
        }
        break;
      case 'inhibit_on_failure': {
        const v = bool(c, s);
        if (v !== null) onFailure = v ? 'quiesce' : 'remove';
        break;
      }
      case 'sorry_server': {
        const a = addr(c, s, s.args[0]);
        const p = s.args[1] === undefined ? 0 : port(c, s, s.args[1]);
        if (s.args.length > 2) err(c, s, 'sorry_server takes an address and an optional port');
        if (a && p !== null) sorry = { stmt: s, ...a, port: p };
        break;
      }
      case 'sorry_server_lvs_method':
        sorryMethod = method(c, s);
        break;
      case 'quorum':
        if (oneArg(c, s) && s.args[0] !== '1') err(c, s, 'quorum other than 1 is not supported: Director uses the sorry server when no real server is up');
        break;
      case 'virtualhost':
        if (oneArg(c, s)) vhost = s.args[0]!;
        break;
      case 'alpha':
        warn(c, s, 'alpha is ignored: Director starts every check in state unknown and acts on the first result');
        break;
      case 'real_server': {
        if (!s.block) {
          err(c, s, 'real_server needs a block { ... }');
          break;
        }
        const r = parseRealServer(c, s, timing);
        if (r) rss.push(r);
        break;
      }
      default:
        unknown(c, s, 'virtual_server');
    }
  }

  for (const { flag } of schedFlag) {
    if (flag === 'flag-1' || flag.endsWith('-fallback')) flags.sched1 = true;
    else if (flag === 'flag-2' || flag.endsWith('-port')) flags.sched2 = true;
    else flags.sched3 = true;
  }
  if (flags.persistent && timeout === 0) timeout = DEFAULT_PERSISTENCE_TIMEOUT;
  if (scheduler === null) {
    warn(c, b, 'no lvs_sched: keepalived uses wlc');
    scheduler = 'wlc';
  }
  if (defMethod === null && rss.some((r) => !r.forwardSet)) warn(c, b, 'no lvs_method: keepalived uses NAT');
  const def = defMethod ?? { forward: 'nat' as const, tunnel: { ...DEFAULT_TUNNEL } };
  for (const r of rss) {
    if (!r.forwardSet) {
      r.dest.forward = def.forward;
      r.dest.tunnel = { ...def.tunnel };
    }
  }
  if (rss.length === 0) warn(c, b, 'a virtual_server without real servers: keepalived drops it, so Director does too');

  for (const h of heads) {
    let key: ServiceKey;
    if (h.kind === 'fwmark') {
      if (protoStmt) warn(c, protoStmt, 'protocol is ignored for a fwmark service');
      const family = h.family ?? ipFamily ?? rss.find((r) => r.dest.forward !== 'tun')?.dest.family ?? rss[0]?.dest.family ?? 'inet';
      key = { kind: 'fwmark', family, fwmark: h.fwmark };
    } else {
      if (protocol === null) warn(c, b, 'no protocol: keepalived uses UDP');
      if (h.port === null && !flags.persistent) err(c, b, 'a virtual_server without a port must be persistent (persistence_timeout)');
      key = { kind: 'addr', family: h.family, protocol: protocol ?? 'udp', address: h.address, port: h.port ?? 0 };
    }
    if (rss.length === 0) continue;
    const family = key.family;
    const svc: ServiceRules = {
      key, scheduler, flags: { ...flags }, timeout, netmask: netmask ?? defaultNetmask(family), pe,
      destinations: rss.map((r) => ({ ...r.dest, tunnel: { ...r.dest.tunnel } })),
    };
    out.services.push(svc);
    const checked = rss.some((r) => r.checks.length > 0);
    if (checked || sorry) {
      out.health.push({
        service: key, timing: { ...timing }, onFailure, rampUpSec: 0,
        sorryServer: sorry ? {
          family: sorry.family, address: sorry.address, port: sorry.port, weight: 1, upperThreshold: 0, lowerThreshold: 0,
          forward: (sorryMethod ?? def).forward, tunnel: { ...(sorryMethod ?? def).tunnel },
        } : null,
        realServers: rss.map((r) => ({
          destination: { ...r.dest, tunnel: { ...r.dest.tunnel } },
          checks: r.checks.map((ch) => (ch.type === 'http' && !ch.virtualhost && vhost ? { ...ch, virtualhost: vhost } : ch)),
          ...(r.onFailure && r.onFailure !== onFailure ? { onFailure: r.onFailure } : {}),
          maintenance: false,
        })),
      });
    }
  }
  return out;
}

export function parseKeepalived(text: string, opts: { file?: string; include?: IncludeReader; checksDir?: string } = {}): KeepalivedImport {
  const c: Ctx = { checksDir: opts.checksDir ?? DEFAULT_CHECKS_DIR, errors: [], warnings: [], notes: [], groups: new Map() };
  const stmts = readStatements(text, opts.file ?? 'keepalived.conf', opts.include, c.errors);
  const services: ServiceRules[] = [];
  const health: HealthServiceConfig[] = [];
  const positions: Pos[] = [];
  for (const s of stmts) {
    if (SKIPPED_BLOCKS.has(s.name)) {
      c.notes.push({ ...s.pos, message: `${s.name}${s.args.length ? ` ${s.args.join(' ')}` : ''} skipped: ${s.name.startsWith('vrrp') ? 'VRRP is configured separately' : 'not part of the IPVS table or checks'}` });
      continue;
    }
    if (s.name === 'virtual_server_group') { parseGroup(c, s); continue; }
    if (s.name === 'virtual_server') {
      if (!s.block) { err(c, s, 'virtual_server needs a block { ... }'); continue; }
      const r = parseVirtualServer(c, s);
      services.push(...r.services);
      health.push(...r.health);
      for (let i = 0; i < r.services.length; i++) positions.push(s.pos);
      continue;
    }
    err(c, s, `unknown top-level keyword '${s.name}'`);
  }
  // the same bounds as any other input: a file is held to the API's rules
  const t = serviceTableSchema.safeParse(services);
  if (!t.success) {
    for (const i of t.error.issues) {
      const at = positions[Number(i.path[0])] ?? { file: opts.file ?? 'keepalived.conf', line: 0 };
      const name = services[Number(i.path[0])];
      c.errors.push({ ...at, message: `${name ? formatServiceKey(name.key) : 'table'}: ${i.path.slice(1).join('.')}: ${i.message}` });
    }
  }
  const h = healthTableSchema.safeParse(health);
  if (!h.success) {
    for (const i of h.error.issues) {
      const idx = services.findIndex((s) => health[Number(i.path[0])] && sameServiceKey(s.key, health[Number(i.path[0])]!.service));
      const at = positions[idx] ?? { file: opts.file ?? 'keepalived.conf', line: 0 };
      c.errors.push({ ...at, message: `checks: ${i.path.slice(1).join('.')}: ${i.message}` });
    }
  }
  const ok = c.errors.length === 0;
  return {
    services: ok && t.success ? t.data : [],
    health: ok && h.success ? h.data : [],
    errors: c.errors.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1)),
    warnings: c.warnings, notes: c.notes, positions: ok ? positions : [],
  };
}
