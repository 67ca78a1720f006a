/**
 * Director's table and checks -> keepalived.conf. Configured weights come
 * from the health config when there is one (a quiesced server's kernel
 * weight is 0 only because it is down); real servers removed on failure are
 * written from the config. What keepalived cannot express is said in
 * comments: a service without real servers, maintenance, a ramp.
 */
import { formatDestination, formatServiceKey } from '../ipvs/format';
import { destinationId, serviceId } from '../ipvs/ids';
import { schedulerFlagNames } from '../ipvs/rules';
import type { DestinationSpec, ServiceRules, TunnelSpec } from '../ipvs/model';
import { DEFAULT_CHECKS_DIR, type Check, type HealthServiceConfig, type Timing } from '../schemas/health';

/** A value keepalived.conf cannot hold; `field` names it ("TCP 10.0.0.1:80 real server 10.0.1.1:80 HTTP_GET url 1 regex"). */
export class KeepalivedExportError extends Error {
  override readonly name = 'KeepalivedExportError';
  constructor(readonly field: string, why: string) {
    super(`${field}: ${why}; nothing was exported`);
  }
}

/**
 * One string value as a keepalived word. keepalived substitutes `$NAME`
 * anywhere in a line, ends a line at a line break (or continues it at a
 * trailing backslash), and reads words two ways: most keywords take a bare
 * word up to white space or a quote, or a quoted one up to the next quote
 * with no escapes ('plain'); `regex` and `misc_path` re-read the line with
 * backslash escapes and both quote kinds ('escaped'). A value is written so
 * that keepalived and parseKeepalived read it back as it is, or refused.
 */
const MAX_VALUE_BYTES = 900;

function quote(s: string, field: string, mode: 'plain' | 'escaped' = 'plain'): string {
  if (/[\x00-\x1f\x7f]/.test(s)) throw new KeepalivedExportError(field, 'contains a line break or control character, which keepalived.conf cannot hold');
  if (s === '') throw new KeepalivedExportError(field, 'is empty');
  if (new TextEncoder().encode(s).length > MAX_VALUE_BYTES) {
    throw new KeepalivedExportError(field, `is longer than ${MAX_VALUE_BYTES} bytes: keepalived reads a line into a 1024-byte buffer and would take the rest as a new line`);
  }
  // keepalived substitutes $NAME and ${NAME} anywhere in a line ($_PWD, $_RANDOM are always defined)
  if (/\$[A-Za-z_{]/.test(s)) throw new KeepalivedExportError(field, 'contains $ followed by a name, which keepalived replaces with a definition');
  if (mode === 'escaped') {
    if (/^[^\s"'\\#!{}]+$/.test(s)) return s;
    // keepalived finds a line's braces by skipping "..." without regard to escapes: an escaped quote would expose them
    if (s.includes('"') && /[{}]/.test(s)) throw new KeepalivedExportError(field, 'contains both " and a brace, which keepalived would split into another line');
    return `"${s.replace(/["\\]/g, (m) => `\\${m}`)}"`;
  }
  // a backslash at the end of a line continues it onto the next
  if (/^[^\s"#!{}]+$/.test(s) && !s.endsWith('\\')) return s;
  if (/["\\]/.test(s)) {
    throw new KeepalivedExportError(field, 'needs quotes (it has spaces, braces, # or !) and also contains " or \\, which a quoted keepalived value cannot hold');
  }
  return `"${s}"`;
}

function methodText(forward: DestinationSpec['forward'], t: TunnelSpec): string {
  if (forward === 'nat') return 'NAT';
  if (forward === 'dr') return 'DR';
  if (forward === 'tun') {
    let s = 'TUN';
    if (t.type !== 'ipip' || t.checksum !== 'nocsum') s += ` type ${t.type}`;
    if (t.type === 'gue') s += ` port ${t.port}`;
    if (t.checksum !== 'nocsum') s += ` ${t.checksum}`;
    return s;
  }
  throw new Error(`forwarding method '${forward}' has no keepalived equivalent`);
}

function num(n: number): string {
  return String(Number.isInteger(n) ? n : Number(n.toFixed(3)));
}

function timingLines(t: Timing, indent: string): string[] {
  const out: string[] = [];
  if (t.delayLoop !== undefined) out.push(`${indent}delay_loop ${num(t.delayLoop)}`);
  if (t.connectTimeout !== undefined) out.push(`${indent}connect_timeout ${num(t.connectTimeout)}`);
  if (t.retry !== undefined) out.push(`${indent}retry ${t.retry}`);
  if (t.delayBeforeRetry !== undefined) out.push(`${indent}delay_before_retry ${num(t.delayBeforeRetry)}`);
  if (t.warmup !== undefined) out.push(`${indent}warmup ${num(t.warmup)}`);
  return out;
}

function checkLines(c: Check, i: string, where: string, checksDir: string): string[] {
  const out: string[] = [];
  if (c.type === 'http') {
    const kind = c.tls ? 'SSL_GET' : 'HTTP_GET';
    out.push(`${i}${kind} {`);
    c.urls.forEach((u, n) => {
      const f = `${where} ${kind} url ${n + 1}`;
      out.push(`${i}    url {`, `${i}        path ${quote(u.path, `${f} path`)}`);
      out.push(`${i}        status_code ${u.statusCodes.map((sc) => quote(sc, `${f} status_code`)).join(' ')}`);
      if (u.digest) out.push(`${i}        digest ${quote(u.digest, `${f} digest`)}`);
      if (u.regex) out.push(`${i}        regex ${quote(u.regex, `${f} regex`, 'escaped')}`);
      if (u.virtualhost) out.push(`${i}        virtualhost ${quote(u.virtualhost, `${f} virtualhost`)}`);
      out.push(`${i}    }`);
    });
    if (c.virtualhost) out.push(`${i}    virtualhost ${quote(c.virtualhost, `${where} ${kind} virtualhost`)}`);
    if (c.connectPort) out.push(`${i}    connect_port ${c.connectPort}`);
  } else if (c.type === 'tcp') {
    out.push(`${i}TCP_CHECK {`);
    if (c.connectPort) out.push(`${i}    connect_port ${c.connectPort}`);
  } else {
    out.push(`${i}MISC_CHECK {`, `${i}    misc_path ${quote(`${checksDir.replace(/\/+$/, '')}/${c.script}`, `${where} MISC_CHECK misc_path`, 'escaped')}`);
    if (c.timeoutSec !== undefined) out.push(`${i}    misc_timeout ${num(c.timeoutSec)}`);
    if (c.dynamic) out.push(`${i}    misc_dynamic`);
  }
  out.push(...timingLines(c.timing, `${i}    `), `${i}}`);
  return out;
}

export interface FormatResult {
  text: string;
  /** services left out, and why */
  skipped: string[];
}

export function formatKeepalived(services: readonly ServiceRules[], health: readonly HealthServiceConfig[], opts: { header?: string; checksDir?: string } = {}): FormatResult {
  const byKey = new Map(health.map((h) => [serviceId(h.service), h]));
  const out: string[] = [`! ${(opts.header ?? 'keepalived.conf written by Director').replace(/[\x00-\x1f\x7f]/g, ' ')}`, '! virtual servers and their checks only; VRRP is configured separately'];
  const skipped: string[] = [];
  for (const s of services) {
    const h = byKey.get(serviceId(s.key));
    const k = s.key;
    const label = formatServiceKey(k);
    // the configured real servers: the config's (with configured weights) first, then any only in the kernel
    const dests: { d: DestinationSpec; rs: HealthServiceConfig['realServers'][number] | null }[] = [];
    const seen = new Set<string>();
    for (const rs of h?.realServers ?? []) {
      const live = s.destinations.find((d) => destinationId(d) === destinationId(rs.destination));
      dests.push({ d: { ...(live ?? rs.destination), weight: rs.destination.weight }, rs });
      seen.add(destinationId(rs.destination));
    }
    const sorryId = h?.sorryServer ? destinationId(h.sorryServer) : null;
    for (const d of s.destinations) {
      if (!seen.has(destinationId(d)) && destinationId(d) !== sorryId) dests.push({ d, rs: null });
    }
    if (dests.length === 0) {
      skipped.push(`${label}: no real servers (keepalived cannot express an empty virtual_server)`);
      out.push('', `! ${label} skipped: no real servers`);
      continue;
    }
    const bad = dests.find(({ d }) => d.forward === 'local' || d.forward === 'bypass');
    if (bad) {
      skipped.push(`${label}: real server ${bad.d.address} uses '${bad.d.forward}' forwarding, which keepalived cannot express`);
      out.push('', `! ${label} skipped: '${bad.d.forward}' forwarding`);
      continue;
    }
    const head = k.kind === 'fwmark' ? `fwmark ${k.fwmark}` : `${k.address} ${k.port}`;
    out.push('', `virtual_server ${head} {`);
    const I = '    ';
    if (k.kind === 'fwmark' && k.family === 'inet6') out.push(`${I}ip_family inet6`);
    if (k.kind === 'addr') out.push(`${I}protocol ${k.protocol.toUpperCase()}`);
    out.push(`${I}lvs_sched ${quote(s.scheduler, `${label} lvs_sched`)}`);
    const flagNames = schedulerFlagNames(s.scheduler);
    if (s.flags.sched1) out.push(`${I}${flagNames[0]}`);
    if (s.flags.sched2) out.push(`${I}${flagNames[1]}`);
    if (s.flags.sched3) out.push(`${I}${flagNames[2]}`);
    const first = dests[0]!.d;
    const def = methodText(first.forward, first.tunnel);
    out.push(`${I}lvs_method ${def}`);
    if (s.flags.persistent) {
      out.push(`${I}persistence_timeout ${s.timeout}`);
      const full = k.family === 'inet' ? '255.255.255.255' : '128';
      if (s.netmask !== full) out.push(`${I}persistence_granularity ${s.netmask}`);
    }
    if (s.pe) out.push(`${I}persistence_engine ${quote(s.pe, `${label} persistence_engine`)}`);
    if (s.flags.onePacket) out.push(`${I}ops`);
    if (h) {
      out.push(...timingLines(h.timing, I));
      if (h.onFailure === 'quiesce') out.push(`${I}inhibit_on_failure`);
      if (h.rampUpSec > 0) out.push(`${I}! Director: weights ramp up over ${num(h.rampUpSec)} s after recovery`);
      if (h.sorryServer) {
        const ss = h.sorryServer;
        out.push(`${I}sorry_server ${ss.address} ${ss.port}`);
        const sm = methodText(ss.forward, ss.tunnel);
        if (sm !== def) out.push(`${I}sorry_server_lvs_method ${sm}`);
      }
    }
    for (const { d, rs } of dests) {
      out.push('', `${I}real_server ${d.address} ${d.port} {`);
      const J = I + I;
      out.push(`${J}weight ${d.weight}`);
      const m = methodText(d.forward, d.tunnel);
      if (m !== def) out.push(`${J}lvs_method ${m}`);
      if (d.upperThreshold) out.push(`${J}uthreshold ${d.upperThreshold}`);
      if (d.lowerThreshold) out.push(`${J}lthreshold ${d.lowerThreshold}`);
      if (rs?.onFailure && h && rs.onFailure !== h.onFailure) out.push(`${J}inhibit_on_failure ${rs.onFailure === 'quiesce' ? 'on' : 'off'}`);
      if (rs?.maintenance) out.push(`${J}! Director: in maintenance (weight 0 until cleared)`);
      for (const c of rs?.checks ?? []) {
        out.push(...checkLines(c, J, `${label} real server ${formatDestination(d)}`, opts.checksDir ?? DEFAULT_CHECKS_DIR));
      }
      out.push(`${I}}`);
    }
    out.push('}');
  }
  return { text: out.join('\n') + '\n', skipped };
}
