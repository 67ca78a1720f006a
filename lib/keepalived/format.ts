/**
 * Director's table and checks -> keepalived.conf. Configured weights come
 * from the health config when there is one (a quiesced server's kernel
 * weight is 0 only because it is down); real servers removed on failure are
 * written from the config. What keepalived cannot express is said in
 * comments: a service without real servers, maintenance, a ramp.
 */
import type { DestinationSpec, ServiceKey, ServiceRules, TunnelSpec } from '../ipvs/model';
import type { Check, HealthServiceConfig, Timing } from '../schemas/health';

function keyId(k: ServiceKey): string {
  return k.kind === 'fwmark' ? `f/${k.family}/${k.fwmark}` : `a/${k.protocol}/${k.address}/${k.port}`;
}
const destId = (d: { family: string; address: string; port: number }) => `${d.family}/${d.address}/${d.port}`;

function quote(s: string): string {
  return /^[^\s"#!{}\\]+$/.test(s) ? s : `"${s.replace(/["\\]/g, (m) => `\\${m}`)}"`;
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

function checkLines(c: Check, i: string): string[] {
  const out: string[] = [];
  if (c.type === 'http') {
    out.push(`${i}${c.tls ? 'SSL_GET' : 'HTTP_GET'} {`);
    for (const u of c.urls) {
      out.push(`${i}    url {`, `${i}        path ${quote(u.path)}`, `${i}        status_code ${u.statusCodes.join(' ')}`);
      if (u.digest) out.push(`${i}        digest ${u.digest}`);
      if (u.regex) out.push(`${i}        regex ${quote(u.regex)}`);
      if (u.virtualhost) out.push(`${i}        virtualhost ${u.virtualhost}`);
      out.push(`${i}    }`);
    }
    if (c.virtualhost) out.push(`${i}    virtualhost ${c.virtualhost}`);
    if (c.connectPort) out.push(`${i}    connect_port ${c.connectPort}`);
  } else if (c.type === 'tcp') {
    out.push(`${i}TCP_CHECK {`);
    if (c.connectPort) out.push(`${i}    connect_port ${c.connectPort}`);
  } else {
    out.push(`${i}MISC_CHECK {`, `${i}    misc_path ${quote(c.command)}`);
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

export function formatKeepalived(services: readonly ServiceRules[], health: readonly HealthServiceConfig[], opts: { header?: string } = {}): FormatResult {
  const byKey = new Map(health.map((h) => [keyId(h.service), h]));
  const out: string[] = [`! ${opts.header ?? 'keepalived.conf written by Director'}`, '! virtual servers and their checks only; VRRP is configured separately'];
  const skipped: string[] = [];
  for (const s of services) {
    const h = byKey.get(keyId(s.key));
    const k = s.key;
    const label = k.kind === 'fwmark' ? `fwmark ${k.fwmark}` : `${k.protocol.toUpperCase()} ${k.family === 'inet6' ? `[${k.address}]` : k.address}:${k.port}`;
    // the configured real servers: the config's (with configured weights) first, then any only in the kernel
    const dests: { d: DestinationSpec; rs: HealthServiceConfig['realServers'][number] | null }[] = [];
    const seen = new Set<string>();
    for (const rs of h?.realServers ?? []) {
      const live = s.destinations.find((d) => destId(d) === destId(rs.destination));
      dests.push({ d: { ...(live ?? rs.destination), weight: rs.destination.weight }, rs });
      seen.add(destId(rs.destination));
    }
    const sorryId = h?.sorryServer ? destId(h.sorryServer) : null;
    for (const d of s.destinations) {
      if (!seen.has(destId(d)) && destId(d) !== sorryId) dests.push({ d, rs: null });
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
    out.push(`${I}lvs_sched ${s.scheduler}`);
    const sh = s.scheduler === 'sh' || s.scheduler === 'mh' ? s.scheduler : null;
    if (s.flags.sched1) out.push(`${I}${sh ? `${sh}-fallback` : 'flag-1'}`);
    if (s.flags.sched2) out.push(`${I}${sh ? `${sh}-port` : 'flag-2'}`);
    if (s.flags.sched3) out.push(`${I}flag-3`);
    const first = dests[0]!.d;
    const def = methodText(first.forward, first.tunnel);
    out.push(`${I}lvs_method ${def}`);
    if (s.flags.persistent) {
      out.push(`${I}persistence_timeout ${s.timeout}`);
      const full = k.family === 'inet' ? '255.255.255.255' : '128';
      if (s.netmask !== full) out.push(`${I}persistence_granularity ${s.netmask}`);
    }
    if (s.pe) out.push(`${I}persistence_engine ${s.pe}`);
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
      for (const c of rs?.checks ?? []) out.push(...checkLines(c, J));
      out.push(`${I}}`);
    }
    out.push('}');
  }
  return { text: out.join('\n') + '\n', skipped };
}
