/**
 * The doctor's rules: evidence in (./evidence.ts), findings out, no I/O.
 * Each finding says what it read, why it matters, and the exact line that
 * fixes it, so an operator can act on it without knowing IPVS's sysctls.
 */
import { serviceArg } from '../snapshot/keys';
import type { ForwardMethod } from '../ipvs/model';
import {
  type DoctorEvidence, type EvidenceDestConns, type EvidenceService, kernelVersion, methodsInUse, routeTo, sourceOn,
} from './evidence';

export type Severity = 'critical' | 'warning' | 'info';

export const CHECKS = [
  'nat-ip-forward', 'tun-rp-filter', 'tun-ipip', 'vip-missing', 'ha-vip',
  'conntrack-full', 'conntrack-reuse', 'conn-reuse-off',
  'persistence-quiescent', 'persistence-nodest', 'mh-sloppy',
  'defense-always', 'defense-active', 'conn-table-size',
  'syn-recv', 'arp-answer', 'arp-probe', 'hash-port',
] as const;
export type CheckId = (typeof CHECKS)[number];

export interface Finding {
  check: CheckId;
  severity: Severity;
  /** one line: what is wrong */
  title: string;
  /** what it is about (a service, a real server, an interface); null: the director as a whole */
  subject: string | null;
  /** what was read, one fact a line ("net.ipv4.ip_forward = 0") */
  evidence: string[];
  why: string;
  /** the exact lines that fix it, to copy */
  fix: string[];
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

type Rule = (ev: DoctorEvidence) => Finding[];

const sys = (ev: DoctorEvidence, name: string): number | null => ev.sysctl[name] ?? null;
const line = (ev: DoctorEvidence, name: string): string => `${name} = ${sys(ev, name) ?? '(absent)'}`;
const labels = (list: readonly EvidenceService[]): string => list.map((s) => s.label).join(', ');
const persist = (name: string, value: number): string =>
  `echo '${name} = ${value}' > /etc/sysctl.d/90-director-${name.split('.').slice(-1)[0]!.replace(/_/g, '-')}.conf`;

function servicesUsing(ev: DoctorEvidence, m: ForwardMethod): EvidenceService[] {
  return methodsInUse(ev.services).get(m) ?? [];
}

const natIpForward: Rule = (ev) => {
  const nat = servicesUsing(ev, 'nat');
  if (nat.length === 0 || sys(ev, 'net.ipv4.ip_forward') !== 0) return [];
  return [{
    check: 'nat-ip-forward', severity: 'critical', title: 'IP forwarding is off while NAT services are in use', subject: null,
    evidence: [line(ev, 'net.ipv4.ip_forward'), `NAT services: ${labels(nat)}`],
    why: 'With NAT the real servers\' replies come back through the director, which must route them to the client. '
      + 'With forwarding off the kernel drops them: clients see their connections time out.',
    fix: ['sysctl -w net.ipv4.ip_forward=1', persist('net.ipv4.ip_forward', 1)],
  }];
};

/** Interfaces that carry TUN traffic: the routes to TUN real servers, plus tunl0 when it exists. */
function tunInterfaces(ev: DoctorEvidence): string[] {
  const devs = new Set<string>();
  for (const s of servicesUsing(ev, 'tun')) {
    for (const d of s.destinations) if (d.forward === 'tun') { const r = routeTo(ev.routes, d.address); if (r?.dev) devs.add(r.dev); }
  }
  if (ev.interfaces.some((i) => i.name === 'tunl0')) devs.add('tunl0');
  return [...devs];
}

const tunRpFilter: Rule = (ev) => {
  const tun = servicesUsing(ev, 'tun');
  if (tun.length === 0) return [];
  const all = sys(ev, 'net.ipv4.conf.all.rp_filter') ?? 0;
  const out: Finding[] = [];
  for (const dev of tunInterfaces(ev)) {
    const own = sys(ev, `net.ipv4.conf.${dev}.rp_filter`) ?? 0;
    // the kernel applies the larger of conf.all and conf.<dev>
    if (Math.max(all, own) !== 1) continue;
    out.push({
      check: 'tun-rp-filter', severity: 'warning', title: `strict reverse-path filtering on ${dev} while TUN services are in use`, subject: dev,
      evidence: [line(ev, 'net.ipv4.conf.all.rp_filter'), line(ev, `net.ipv4.conf.${dev}.rp_filter`), `TUN services: ${labels(tun)}`],
      why: 'Strict rp_filter (1) drops any packet whose source this host would not route back out of the interface it came in on. '
        + 'Tunnelled packets arrive on tunl0 from sources routed elsewhere, and the ICMP errors (fragmentation needed) that path-MTU '
        + 'discovery of the tunnels needs come back by other paths: strict filtering drops them silently. Loose (2) keeps the spoofing check.',
      fix: [`sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.${dev}.rp_filter=2`],
    });
  }
  return out;
};

const tunIpip: Rule = (ev) => {
  const tun = servicesUsing(ev, 'tun');
  if (tun.length === 0 || ev.modules.ipip !== false) return [];
  return [{
    check: 'tun-ipip', severity: 'warning', title: 'the ipip module is not loaded while TUN services are in use', subject: null,
    evidence: ['module ipip: not loaded (no /sys/module/ipip, no tunl0)', `TUN services: ${labels(tun)}`],
    why: 'IPVS encapsulates without it, but without ipip this host has no tunl0 and cannot decapsulate IPIP: ICMP errors about the '
      + 'tunnels are not matched, and a director that is also a real server of a TUN service (or a backup taking that role) drops '
      + 'every tunnelled packet. Every real server of a TUN service needs it too, with tunl0 up.',
    fix: ['modprobe ipip && ip link set tunl0 up', "echo ipip > /etc/modules-load.d/ipip.conf"],
  }];
};

/** Local IPv4 addresses of the director. */
function localAddresses(ev: DoctorEvidence): Set<string> {
  return new Set(ev.interfaces.flatMap((i) => i.addresses.map((a) => a.address)));
}

const vipMissing: Rule = (ev) => {
  // in HA the VIPs are keepalived's to add and remove: ha-vip judges them against the VRRP state
  const haVips = new Set(ev.ha?.groups.flatMap((g) => g.vips.map((v) => v.split('/')[0]!)) ?? []);
  const have = localAddresses(ev);
  const missing = new Map<string, EvidenceService[]>();
  for (const s of ev.services) {
    if (s.key.kind !== 'addr' || s.key.family !== 'inet' || haVips.has(s.key.address) || have.has(s.key.address)) continue;
    if (s.destinations.every((d) => d.forward === 'local')) continue;
    missing.set(s.key.address, [...(missing.get(s.key.address) ?? []), s]);
  }
  return [...missing].map(([vip, list]) => {
    const r = list.flatMap((s) => s.destinations).map((d) => routeTo(ev.routes, d.address)).find((x) => x?.dev);
    const dev = r?.dev ?? (ev.interfaces.find((i) => i.name !== 'lo' && i.addresses.length > 0)?.name ?? 'eth0');
    return {
      check: 'vip-missing' as const, severity: 'critical' as const, title: `VIP ${vip} is not on any interface of this director`, subject: vip,
      evidence: [`addresses: ${[...have].join(', ') || '(none)'}`, `services on ${vip}: ${labels(list)}`],
      why: 'Clients reach a virtual service by sending to the VIP; the director answers ARP for it and accepts the packets only when the '
        + 'VIP is one of its addresses. Without it nothing arrives, or (DR) a real server that answers ARP for the VIP takes the traffic past the director.',
      fix: [`ip addr add ${vip}/32 dev ${dev}`],
    };
  });
};

const haVip: Rule = (ev) => {
  if (!ev.ha) return [];
  const out: Finding[] = [];
  for (const g of ev.ha.groups) {
    const present = new Set(g.vipsPresent.map((v) => v.split('/')[0]!));
    const master = g.vrrpState === 'MASTER';
    for (const v of g.vips) {
      const vip = v.split('/')[0]!;
      const has = present.has(vip);
      if (master === has) continue;
      out.push({
        check: 'ha-vip', severity: 'critical',
        title: master ? `VIP ${vip} is missing on the master of ${g.name}` : `VIP ${vip} is on ${ev.ha.director}, which is ${g.vrrpState} for ${g.name}`,
        subject: vip,
        evidence: [`group ${g.name}: VRRP state ${g.vrrpState}`, `VIPs present here: ${[...present].join(', ') || '(none)'}`],
        why: master
          ? 'This director is MASTER, so clients send to it, but the VIP is not on its interface: nothing for the VIP is accepted.'
          : 'Only the master may hold the VIP. A backup holding it answers ARP too: clients split between two directors (split brain), '
            + 'and connections break whenever the two answers alternate.',
        fix: master ? [`systemctl restart director-agent   # keepalived re-adds the VIPs of MASTER groups`]
          : [`ip addr del ${v.includes('/') ? v : `${vip}/32`} dev <interface>   # the interface of group ${g.name}`],
      });
    }
  }
  return out;
};

const conntrackFull: Rule = (ev) => {
  const count = sys(ev, 'net.netfilter.nf_conntrack_count'), max = sys(ev, 'net.netfilter.nf_conntrack_max');
  if (ev.services.length === 0 || count === null || !max || count < 0.9 * max) return [];
  const vsConntrack = sys(ev, 'net.ipv4.vs.conntrack') === 1;
  return [{
    check: 'conntrack-full', severity: 'critical', title: `netfilter's connection table is ${Math.round((100 * count) / max)}% full`, subject: null,
    evidence: [line(ev, 'net.netfilter.nf_conntrack_count'), line(ev, 'net.netfilter.nf_conntrack_max'), line(ev, 'net.ipv4.vs.conntrack')],
    why: 'When netfilter\'s conntrack table is full the kernel drops every packet that would start a new tracked connection '
      + '("nf_conntrack: table full, dropping packet"), whatever IPVS would have done with it: new clients time out. '
      + (vsConntrack ? 'With net.ipv4.vs.conntrack=1 every IPVS connection also takes an entry there.' : 'Something on this director (a firewall, NAT, tc) tracks the traffic.'),
    fix: [`sysctl -w net.netfilter.nf_conntrack_max=${Math.max(2 * max, 262144)}`,
      ...(vsConntrack ? ['sysctl -w net.ipv4.vs.conntrack=0   # if no netfilter rule needs the IPVS connections (NAT masquerading, ct state matches)'] : [])],
  }];
};

const connReuse: Rule = (ev) => {
  const mode = sys(ev, 'net.ipv4.vs.conn_reuse_mode');
  const kv = kernelVersion(ev.kernel);
  const old = kv !== null && (kv[0] < 5 || (kv[0] === 5 && kv[1] < 9));
  if (ev.services.length === 0 || mode === null) return [];
  if (mode === 0) {
    return [{
      check: 'conn-reuse-off', severity: 'warning', title: 'conn_reuse_mode is 0: a reused client port goes back to its old real server', subject: null,
      evidence: [line(ev, 'net.ipv4.vs.conn_reuse_mode'), `kernel ${ev.kernel}`],
      why: 'With 0, a new connection from a client port still in the table (TIME_WAIT, FIN_WAIT) is sent to the real server of the old entry '
        + 'without being scheduled: a drained (weight 0) or removed real server keeps getting connections from busy clients and proxies. '
        + (old ? 'On this kernel (before 5.9) mode 1 with conntrack=1 delays such connections by a second, so set conntrack=0 with it.'
          : 'Kernels from 5.9 on reschedule without the 1-second delay that made older setups turn it off (unless a tc ct action confirms conntrack first).'),
      fix: old ? ['sysctl -w net.ipv4.vs.conn_reuse_mode=1 net.ipv4.vs.conntrack=0'] : ['sysctl -w net.ipv4.vs.conn_reuse_mode=1'],
    }];
  }
  // 5.9 stopped the drop for a reused port whose conntrack entry is not yet confirmed (the usual case: netfilter
  // confirms after IPVS). A tc ct action confirms it before IPVS sees the packet: the drop is back on any kernel
  // (provoked in the 6.1 lab kernel: server/doctor/doctor.kernel.test.ts, fault conntrack-reuse).
  const tcCt = ev.modules.act_ct === true;
  if (mode === 1 && sys(ev, 'net.ipv4.vs.conntrack') === 1 && (old || tcCt)) {
    return [{
      check: 'conntrack-reuse', severity: 'warning',
      title: old ? `conn_reuse_mode 1 with conntrack on kernel ${ev.kernel} delays reused ports by 1 s`
        : 'conn_reuse_mode 1 with conntrack and tc ct actions delays reused ports by 1 s',
      subject: null,
      evidence: [line(ev, 'net.ipv4.vs.conn_reuse_mode'), line(ev, 'net.ipv4.vs.conntrack'),
        old ? `kernel ${ev.kernel} (before 5.9)` : `kernel ${ev.kernel}`,
        ...(tcCt ? ['module act_ct: in use (a tc ct action confirms connections before IPVS sees them)'] : [])],
      why: 'To reschedule a reused client port IPVS drops the first SYN while netfilter holds a confirmed conntrack entry for the old '
        + 'connection (before Linux 5.9 whenever conntrack was on; from 5.9 when something confirms the entry before IPVS, as a tc ct action '
        + 'does): the client retransmits after 1 s, so clients that reuse ports (load tests, proxies) see 1-second stalls.',
      fix: ['sysctl -w net.ipv4.vs.conntrack=0   # if no netfilter rule needs the IPVS connections',
        old ? 'or upgrade to a kernel >= 5.9' : 'or remove the tc ct action from the traffic to the VIPs (tc filter show dev <interface> ingress)'],
    }];
  }
  return [];
};

const persistence: Rule = (ev) => {
  const persistent = ev.services.filter((s) => s.flags.persistent);
  if (persistent.length === 0) return [];
  const out: Finding[] = [];
  if (sys(ev, 'net.ipv4.vs.expire_quiescent_template') === 0) {
    out.push({
      check: 'persistence-quiescent', severity: 'warning', title: 'draining does not drain persistent services', subject: null,
      evidence: [line(ev, 'net.ipv4.vs.expire_quiescent_template'), `persistent services: ${labels(persistent)}`],
      why: 'A client with a persistence template keeps being sent to its real server even at weight 0, until the template expires: '
        + 'a drained real server keeps getting new connections from known clients. With 1 the template of a quiesced server expires at its next use.',
      fix: ['sysctl -w net.ipv4.vs.expire_quiescent_template=1', persist('net.ipv4.vs.expire_quiescent_template', 1)],
    });
  }
  if (sys(ev, 'net.ipv4.vs.expire_nodest_conn') === 0) {
    out.push({
      check: 'persistence-nodest', severity: 'warning', title: 'connections to a removed real server are kept', subject: null,
      evidence: [line(ev, 'net.ipv4.vs.expire_nodest_conn'), `persistent services: ${labels(persistent)}`],
      why: 'When a real server is removed (by hand or by a health check), its connection entries and the persistence templates pointing at it '
        + 'stay until they time out, and the director drops their packets silently: persistent clients hang instead of being rescheduled.',
      fix: ['sysctl -w net.ipv4.vs.expire_nodest_conn=1', persist('net.ipv4.vs.expire_nodest_conn', 1)],
    });
  }
  return out;
};

const mhSloppy: Rule = (ev) => {
  const mh = ev.services.filter((s) => s.scheduler === 'mh' && (s.key.kind === 'fwmark' || s.key.protocol === 'tcp'));
  if (mh.length === 0 || ev.syncDaemons.length > 0 || sys(ev, 'net.ipv4.vs.sloppy_tcp') !== 0) return [];
  return [{
    check: 'mh-sloppy', severity: 'warning', title: 'mh services without connection sync, and sloppy_tcp off', subject: null,
    evidence: [line(ev, 'net.ipv4.vs.sloppy_tcp'), 'sync daemons: none', `mh services: ${labels(mh)}`],
    why: 'Maglev hashing is chosen so that any director can take over a flow (ECMP, failover) and send it to the same real server. '
      + 'Without connection sync the new director has no entry for it, and with sloppy_tcp=0 it only schedules on a SYN: '
      + 'every established connection that moves is dropped.',
    fix: ['sysctl -w net.ipv4.vs.sloppy_tcp=1', persist('net.ipv4.vs.sloppy_tcp', 1)],
  }];
};

const DEFENSES = ['drop_entry', 'drop_packet', 'secure_tcp'] as const;

const defense: Rule = (ev) => {
  if (ev.services.length === 0) return [];
  const out: Finding[] = [];
  const amem = sys(ev, 'net.ipv4.vs.amemthresh');
  for (const d of DEFENSES) {
    const name = `net.ipv4.vs.${d}`;
    const v = sys(ev, name);
    if (v === 3) {
      out.push({
        check: 'defense-always', severity: 'warning', title: `${d} is always on`, subject: d,
        evidence: [line(ev, name)],
        why: d === 'secure_tcp'
          ? 'secure_tcp=3 keeps the SYN-flood state table and timeouts at all times: connections are tracked more strictly and expire sooner, memory or not.'
          : `${d}=3 drops ${d === 'drop_entry' ? 'connection entries' : 'packets'} at random at all times, not only when memory runs low: healthy clients lose connections.`,
        fix: [`sysctl -w ${name}=1   # automatic: only when available memory falls below amemthresh`],
      });
    } else if (v === 2) {
      out.push({
        check: 'defense-active', severity: 'critical', title: `${d} is active now: available memory is below amemthresh`, subject: d,
        evidence: [line(ev, name), line(ev, 'net.ipv4.vs.amemthresh'),
          `MemAvailable: ${ev.memAvailablePages ?? '(unknown)'} pages`],
        why: `The kernel switched ${d} on because available memory fell below amemthresh (${amem ?? '?'} pages): `
          + (d === 'secure_tcp' ? 'connection timeouts are shortened.' : `it is dropping ${d === 'drop_entry' ? 'connection entries' : 'packets'} now.`)
          + ' Either memory is really short (a SYN flood, a huge table) or amemthresh is set above what this host can have free.',
        fix: amem !== null && ev.memAvailablePages !== null && amem > ev.memAvailablePages
          ? [`sysctl -w net.ipv4.vs.amemthresh=1024   # the default; now ${amem} pages, above the ${ev.memAvailablePages} available`]
          : ['free memory (or add it), then check the connection table size: ipvsadm -Lnc | wc -l'],
      });
    }
  }
  return out;
};

const connTableSize: Rule = (ev) => {
  if (!ev.conns || ev.connTableSize <= 0) return [];
  const entries = ev.conns.entries + ev.conns.templates;
  const perBucket = entries / ev.connTableSize;
  if (perBucket <= 4) return [];
  const bits = Math.min(20, Math.max(8, Math.ceil(Math.log2(entries))));
  return [{
    check: 'conn-table-size', severity: 'warning', title: `the connection table holds ${entries} entries in ${ev.connTableSize} buckets`, subject: null,
    evidence: [`connection table size: ${ev.connTableSize} buckets`, `entries: ${ev.conns.entries} connections + ${ev.conns.templates} templates`,
      `average chain: ${perBucket.toFixed(1)} entries per bucket`],
    why: 'IPVS never grows its connection hash table: every packet walks a chain of about this many entries to find its connection, '
      + 'which costs CPU on every packet as the table grows. The size is set when ip_vs loads.',
    fix: [`echo 'options ip_vs conn_tab_bits=${bits}' > /etc/modprobe.d/ip_vs.conf   # then reload ip_vs (the table must be empty): ipvsadm -S -n > /root/ipvs.rules; ipvsadm -C; modprobe -r ip_vs; ipvsadm -R < /root/ipvs.rules`],
  }];
};

const METHOD_OF = (ev: DoctorEvidence, service: string, address: string, port: number): { method: ForwardMethod; svc: EvidenceService } | null => {
  const svc = ev.services.find((s) => s.label === service);
  const d = svc?.destinations.find((x) => x.address === address && x.port === port);
  return svc && d ? { method: d.forward, svc } : null;
};

const synRecv: Rule = (ev) => {
  if (!ev.conns) return [];
  const out: Finding[] = [];
  // closed entries (FIN_WAIT, TIME_WAIT) may be from before it broke: judge against the connections open now
  const piling = (d: EvidenceDestConns) => (d.byState.SYN_RECV ?? 0) >= 3 && (d.byState.SYN_RECV ?? 0) >= (d.byState.ESTABLISHED ?? 0);
  for (const d of ev.conns.destinations) {
    if (!piling(d)) continue;
    const syn = d.byState.SYN_RECV ?? 0;
    const m = METHOD_OF(ev, d.service, d.address, d.port);
    const method = m?.method ?? 'dr';
    if (method === 'local' || method === 'bypass') continue;
    // NAT replies that the director does not route: nat-ip-forward names the cause, not each real server
    if (method === 'nat' && sys(ev, 'net.ipv4.ip_forward') === 0) continue;
    const siblings = ev.conns.destinations.filter((x) => x.service === d.service && x.connections > 0);
    const everyOne = siblings.length > 1 && siblings.every(piling);
    const vip = m?.svc.key.kind === 'addr' ? m.svc.key.address : 'VIP';
    const route = routeTo(ev.routes, d.address);
    const dip = route?.dev ? sourceOn(ev.interfaces, route.dev, d.address) : null;
    const why = {
      dr: 'The director forwarded the SYNs to this real server but never saw the clients complete the handshake: it does not accept packets '
        + 'for the VIP. Usually the VIP is not on its loopback, or its service does not listen on the VIP.',
      tun: 'The director tunnelled the SYNs to this real server but never saw the clients complete the handshake: it drops the tunnelled packets. '
        + 'Usually ipip is not loaded or tunl0 is down, rp_filter on tunl0 or all is strict (1), or the VIP is not on its loopback.',
      nat: 'The director forwarded the SYNs to this real server but its replies do not come back through the director: its default gateway '
        + '(for replies from its real-server address) is not the director, so the client gets an answer from an address it never called and resets it.',
    }[method];
    const fix = {
      dr: [`ip addr add ${vip}/32 dev lo   # on ${d.address}`, `sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2   # on ${d.address}`],
      tun: [`modprobe ipip && ip link set tunl0 up && ip addr add ${vip}/32 dev lo   # on ${d.address}`,
        `sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0   # on ${d.address}`],
      nat: [`ip route replace default via ${dip ?? '<director address>'}   # on ${d.address}`],
    }[method];
    out.push({
      check: 'syn-recv', severity: 'critical', title: `connections to ${d.address}:${d.port} stay in SYN_RECV (${method.toUpperCase()})`,
      subject: `${d.service} → ${d.address}:${d.port}`,
      evidence: [`${d.service} → ${d.address}:${d.port}: ${syn} of ${d.connections} connections in SYN_RECV`,
        ...Object.entries(d.byState).filter(([s]) => s !== 'SYN_RECV').map(([s, n]) => `${s}: ${n}`)],
      why: everyOne ? `${why} Every real server of this service shows it, so look at the director first (its forwarding, its firewall) before each real server.` : why,
      fix,
    });
  }
  return out;
};

const arpAnswer: Rule = (ev) => {
  if (!ev.arp) return [];
  const own = new Set(ev.interfaces.map((i) => i.mac?.toLowerCase()).filter(Boolean));
  const out: Finding[] = [];
  for (const p of ev.arp) {
    if (p.error) {
      out.push({
        check: 'arp-probe', severity: 'info', title: `the ARP probe for ${p.vip} on ${p.interface} did not run`, subject: `${p.vip} on ${p.interface}`,
        evidence: [p.error],
        why: 'Without it the doctor cannot tell whether a real server answers ARP for the VIP (the DR ARP problem).',
        fix: p.error.includes('not permitted') || p.error.includes('EPERM')
          ? ['run `director doctor` as root on the director, or give the agent CAP_NET_RAW (the HA drop-in does)']
          : ['apt-get install iputils-arping'],
      });
      continue;
    }
    for (const a of p.answers) {
      const mac = a.mac.toLowerCase();
      if (own.has(mac)) continue;
      const who = ev.neighbors.find((n) => n.mac.toLowerCase() === mac && n.address !== p.vip);
      const rs = who && ev.services.some((s) => s.destinations.some((d) => d.address === who.address));
      const name = who ? `${who.address} (${mac})` : mac;
      out.push({
        check: 'arp-answer', severity: 'critical', title: `${rs ? 'real server' : 'host'} ${name} answers ARP for the VIP ${p.vip}`,
        subject: who?.address ?? mac,
        evidence: [`arping -I ${p.interface} -s ${p.source} ${p.vip}: reply from ${a.ip} [${mac}]`,
          `the director's MACs: ${[...own].join(', ') || '(none)'}`,
          who ? `neighbour table: ${who.address} is at ${mac} on ${who.dev}` : `no neighbour entry has ${mac}`],
        why: 'In DR every real server holds the VIP on its loopback. One that answers ARP for it (arp_ignore and arp_announce not set) '
          + 'competes with the director: clients and the router that learn its MAC send all traffic for the VIP straight to it, past the director '
          + 'and its scheduling.',
        fix: [`sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2   # on ${who?.address ?? `the host with MAC ${mac}`}`,
          `printf 'net.ipv4.conf.all.arp_ignore = 1\\nnet.ipv4.conf.all.arp_announce = 2\\n' > /etc/sysctl.d/90-lvs-dr.conf   # on ${who?.address ?? 'that host'}`],
      });
    }
  }
  return out;
};

/** sh/mh hash the source address only unless their port flag is set: a handful of clients (a proxy, a NAT gateway) then land on one server. */
const hashPort: Rule = (ev) => {
  if (!ev.conns) return [];
  const out: Finding[] = [];
  for (const s of ev.services) {
    if ((s.scheduler !== 'sh' && s.scheduler !== 'mh') || s.flags.sched2) continue;
    if (s.destinations.filter((d) => d.weight > 0).length < 2) continue;
    const c = ev.conns.services.find((x) => x.service === s.label);
    if (!c || c.connections < 10 || c.clients > 3 || c.clientsCapped) continue;
    const [busiest, n] = Object.entries(c.byDestination).sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
    if (n < 0.8 * c.connections) continue;
    const key = serviceArg(s.key);
    const flags = [`${s.scheduler}-port`, ...(s.flags.sched1 ? [`${s.scheduler}-fallback`] : [])].join(',');
    out.push({
      check: 'hash-port', severity: 'warning', title: `${s.label}: ${c.clients} client${c.clients === 1 ? '' : 's'} carry the load and ${s.scheduler} hashes addresses only`,
      subject: s.label,
      evidence: [`scheduler ${s.scheduler}, flags: ${s.flags.sched1 ? `${s.scheduler}-fallback` : 'none'} (no ${s.scheduler}-port)`,
        `${c.connections} connections from ${c.clients} client address${c.clients === 1 ? '' : 'es'}`,
        `${busiest} carries ${n} of them (${Math.round((100 * n) / c.connections)}%)`],
      why: `${s.scheduler} picks the real server from the client's address alone unless ${s.scheduler}-port is set. With few client addresses `
        + '(a proxy, a NAT gateway, a load generator) every connection lands on the same real server and the others idle.',
      fix: [`ipvsadm -E ${key} -s ${s.scheduler} -b ${flags}${s.flags.persistent ? ` -p ${s.timeout}` : ''}`],
    });
  }
  return out;
};

const RULES: Rule[] = [
  natIpForward, tunRpFilter, tunIpip, vipMissing, haVip, conntrackFull, connReuse, persistence, mhSloppy,
  defense, connTableSize, synRecv, arpAnswer, hashPort,
];

/** Every finding the evidence supports, most severe first. */
export function diagnose(ev: DoctorEvidence): Finding[] {
  return RULES.flatMap((r) => r(ev)).sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}

