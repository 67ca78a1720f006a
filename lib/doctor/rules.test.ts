import { describe, expect, it } from 'vitest';
import { arpProbeTargets, kernelVersion, routeTo, sourceOn } from './evidence';
import { CHECKS, diagnose, type CheckId, type Finding } from './rules';
import { DIRECTOR_MAC, RS1, RS2, RS2_MAC, VIP, healthyEvidence } from './testing';
import type { DoctorEvidence } from './evidence';

const checks = (f: Finding[]) => f.map((x) => x.check);
function withEv(patch: (e: DoctorEvidence) => void): Finding[] {
  const e = healthyEvidence();
  patch(e);
  return diagnose(e);
}
const only = (f: Finding[], check: CheckId): Finding => {
  expect(checks(f)).toEqual([check]);
  return f[0]!;
};

describe('doctor rules', () => {
  it('the healthy lab raises no finding', () => {
    expect(diagnose(healthyEvidence())).toEqual([]);
  });

  it('nat-ip-forward: NAT in use with ip_forward 0, with the sysctl as the fix', () => {
    const f = only(withEv((e) => { e.sysctl['net.ipv4.ip_forward'] = 0; }), 'nat-ip-forward');
    expect(f.severity).toBe('critical');
    expect(f.evidence).toContain('net.ipv4.ip_forward = 0');
    expect(f.fix[0]).toBe('sysctl -w net.ipv4.ip_forward=1');
    // without NAT services forwarding does not matter
    expect(withEv((e) => { e.sysctl['net.ipv4.ip_forward'] = 0; e.services = e.services.filter((s) => s.key.kind === 'addr' && s.key.port !== 8080); })).toEqual([]);
  });

  it('tun-rp-filter: strict rp_filter on the interface towards TUN real servers (max of all and the interface)', () => {
    const f = withEv((e) => { e.sysctl['net.ipv4.conf.all.rp_filter'] = 1; });
    expect(checks(f)).toEqual(['tun-rp-filter', 'tun-rp-filter']);
    expect(f.map((x) => x.subject).sort()).toEqual(['br0', 'tunl0']);
    expect(only(withEv((e) => { e.sysctl['net.ipv4.conf.br0.rp_filter'] = 1; }), 'tun-rp-filter').fix[0]).toContain('net.ipv4.conf.br0.rp_filter=2');
    // loose mode is fine
    expect(withEv((e) => { e.sysctl['net.ipv4.conf.all.rp_filter'] = 2; })).toEqual([]);
    // no TUN service: not judged
    expect(withEv((e) => { e.sysctl['net.ipv4.conf.all.rp_filter'] = 1; e.services = e.services.slice(0, 2); })).toEqual([]);
  });

  it('tun-ipip: TUN in use without the ipip module', () => {
    const f = only(withEv((e) => { e.modules.ipip = false; }), 'tun-ipip');
    expect(f.fix[0]).toContain('modprobe ipip');
  });

  it('vip-missing: a service VIP on no interface names the VIP and the interface to add it on', () => {
    const f = only(withEv((e) => { e.interfaces[1]!.addresses.pop(); }), 'vip-missing');
    expect(f.subject).toBe(VIP);
    expect(f.fix).toEqual([`ip addr add ${VIP}/32 dev br0`]);
  });

  it('ha-vip: the VIP only on the master', () => {
    const ha = (state: string, present: string[]) => withEv((e) => {
      e.ha = { director: 'lvs2', groups: [{ name: 'web', vips: [`${VIP}/24`], vrrpState: state, vipsPresent: present }] };
      if (!present.length) e.interfaces[1]!.addresses.pop();
    });
    expect(ha('MASTER', [`${VIP}/24`])).toEqual([]);
    expect(ha('BACKUP', [])).toEqual([]);
    const backup = only(ha('BACKUP', [`${VIP}/24`]), 'ha-vip');
    expect(backup.title).toContain('BACKUP');
    expect(backup.fix[0]).toContain(`ip addr del ${VIP}/24`);
    expect(only(ha('MASTER', []), 'ha-vip').title).toContain('missing on the master');
  });

  it('conntrack-full: netfilter\'s table at 90%, and IPVS conntrack named when it is on', () => {
    expect(withEv((e) => { e.sysctl['net.netfilter.nf_conntrack_count'] = 50000; })).toEqual([]);
    const off = only(withEv((e) => { e.sysctl['net.netfilter.nf_conntrack_count'] = 60000; }), 'conntrack-full');
    expect(off.title).toContain('92%');
    expect(off.fix).toEqual(['sysctl -w net.netfilter.nf_conntrack_max=262144']);
    const on = only(withEv((e) => { e.sysctl['net.ipv4.vs.conntrack'] = 1; e.sysctl['net.netfilter.nf_conntrack_count'] = 65536; }), 'conntrack-full');
    expect(on.fix[1]).toContain('net.ipv4.vs.conntrack=0');
  });

  it('conn_reuse_mode: 0 is a finding on any kernel; 1 with conntrack only before 5.9', () => {
    expect(only(withEv((e) => { e.sysctl['net.ipv4.vs.conn_reuse_mode'] = 0; }), 'conn-reuse-off').fix).toEqual(['sysctl -w net.ipv4.vs.conn_reuse_mode=1']);
    const old = only(withEv((e) => { e.sysctl['net.ipv4.vs.conn_reuse_mode'] = 0; e.kernel = '4.19.0-21-amd64'; }), 'conn-reuse-off');
    expect(old.fix[0]).toContain('conntrack=0');
    expect(withEv((e) => { e.sysctl['net.ipv4.vs.conntrack'] = 1; })).toEqual([]);
    expect(only(withEv((e) => { e.sysctl['net.ipv4.vs.conntrack'] = 1; e.kernel = '5.4.0'; }), 'conntrack-reuse').evidence)
      .toContain('kernel 5.4.0 (before 5.9)');
    // from 5.9 on only when a tc ct action confirms conntrack before IPVS (act_ct held)
    expect(withEv((e) => { e.modules.act_ct = true; })).toEqual([]);
    const tc = only(withEv((e) => { e.sysctl['net.ipv4.vs.conntrack'] = 1; e.modules.act_ct = true; }), 'conntrack-reuse');
    expect(tc.evidence).toContain('module act_ct: in use (a tc ct action confirms connections before IPVS sees them)');
    expect(tc.fix[1]).toMatch(/tc filter show/);
    expect(kernelVersion('5.10.0-9-amd64')).toEqual([5, 10]);
    expect(kernelVersion('weird')).toBeNull();
  });

  it('persistence: expire_quiescent_template and expire_nodest_conn only matter with a persistent service', () => {
    const f = withEv((e) => { e.services[0]!.flags.persistent = true; e.services[0]!.timeout = 300; });
    expect(checks(f).sort()).toEqual(['persistence-nodest', 'persistence-quiescent']);
    expect(withEv((e) => {
      e.services[0]!.flags.persistent = true;
      e.sysctl['net.ipv4.vs.expire_quiescent_template'] = 1;
      e.sysctl['net.ipv4.vs.expire_nodest_conn'] = 1;
    })).toEqual([]);
  });

  it('mh-sloppy: mh without sync daemon needs sloppy_tcp', () => {
    expect(only(withEv((e) => { e.services[0]!.scheduler = 'mh'; }), 'mh-sloppy').fix[0]).toBe('sysctl -w net.ipv4.vs.sloppy_tcp=1');
    expect(withEv((e) => { e.services[0]!.scheduler = 'mh'; e.sysctl['net.ipv4.vs.sloppy_tcp'] = 1; })).toEqual([]);
    expect(withEv((e) => {
      e.services[0]!.scheduler = 'mh';
      e.syncDaemons = [{ state: 'master', interface: 'br0', syncId: 1, maxLen: 0, group: '', port: 0, ttl: 0 }];
    })).toEqual([]);
  });

  it('defense modes: 3 is always on, 2 is active now and blames amemthresh above free memory', () => {
    const always = only(withEv((e) => { e.sysctl['net.ipv4.vs.drop_packet'] = 3; }), 'defense-always');
    expect(always.subject).toBe('drop_packet');
    const active = only(withEv((e) => { e.sysctl['net.ipv4.vs.drop_entry'] = 2; e.sysctl['net.ipv4.vs.amemthresh'] = 10_000_000; }), 'defense-active');
    expect(active.fix[0]).toContain('amemthresh=1024');
    expect(withEv((e) => { e.sysctl['net.ipv4.vs.drop_entry'] = 1; })).toEqual([]);
  });

  it('conn-table-size: more than 4 entries a bucket', () => {
    const f = only(withEv((e) => { e.connTableSize = 256; e.conns!.entries = 1500; }), 'conn-table-size');
    expect(f.fix[0]).toContain('conn_tab_bits=11');
    expect(withEv((e) => { e.connTableSize = 256; e.conns!.entries = 1000; })).toEqual([]);
  });

  it('syn-recv: SYN_RECV piling on one real server, with the why of its method', () => {
    const dr = only(withEv((e) => { e.conns!.destinations[1]!.byState = { SYN_RECV: 5 }; e.conns!.destinations[1]!.connections = 5; }), 'syn-recv');
    expect(dr.subject).toBe(`TCP ${VIP}:80 → ${RS2}:80`);
    expect(dr.fix[0]).toBe(`ip addr add ${VIP}/32 dev lo   # on ${RS2}`);
    const nat = only(withEv((e) => {
      e.conns!.destinations.push({ service: `TCP ${VIP}:8080`, address: RS1, port: 80, connections: 4, byState: { SYN_RECV: 4 } });
    }), 'syn-recv');
    expect(nat.why).toContain('default gateway');
    expect(nat.fix[0]).toBe(`ip route replace default via 192.168.150.1   # on ${RS1}`);
    expect(nat.why).not.toContain('Every real server');
    // every NAT real server piling up with forwarding off: the director's finding, not one per real server
    const natPile = (e: DoctorEvidence) => {
      for (const a of [RS1, RS2]) e.conns!.destinations.push({ service: `TCP ${VIP}:8080`, address: a, port: 80, connections: 84, byState: { SYN_RECV: 6, TIME_WAIT: 78 } });
    };
    expect(checks(withEv((e) => { natPile(e); e.sysctl['net.ipv4.ip_forward'] = 0; }))).toEqual(['nat-ip-forward']);
    const both = withEv(natPile);
    expect(checks(both)).toEqual(['syn-recv', 'syn-recv']);
    expect(both[0]!.why).toContain('Every real server of this service shows it');
    const tun = only(withEv((e) => {
      e.conns!.destinations.push({ service: `TCP ${VIP}:8081`, address: RS2, port: 8081, connections: 3, byState: { SYN_RECV: 3 } });
    }), 'syn-recv');
    expect(tun.why).toContain('rp_filter');
    // a few SYN_RECV among many open connections is normal traffic
    expect(withEv((e) => { e.conns!.destinations[1]!.byState = { SYN_RECV: 3, ESTABLISHED: 20 }; e.conns!.destinations[1]!.connections = 23; })).toEqual([]);
    // closed entries from before it broke do not hide it
    expect(checks(withEv((e) => { e.conns!.destinations[1]!.byState = { SYN_RECV: 4, FIN_WAIT: 20 }; e.conns!.destinations[1]!.connections = 24; }))).toEqual(['syn-recv']);
  });

  it('arp-answer: an answer from a MAC not the director\'s names the real server by IP and MAC', () => {
    const f = only(withEv((e) => { e.arp![0]!.answers = [{ ip: VIP, mac: RS2_MAC.toUpperCase() }]; }), 'arp-answer');
    expect(f.title).toBe(`real server ${RS2} (${RS2_MAC}) answers ARP for the VIP ${VIP}`);
    expect(f.subject).toBe(RS2);
    expect(f.fix[0]).toContain(`# on ${RS2}`);
    // the director's own MAC is not a finding
    expect(withEv((e) => { e.arp![0]!.answers = [{ ip: VIP, mac: DIRECTOR_MAC }]; })).toEqual([]);
    const unknown = only(withEv((e) => { e.arp![0]!.answers = [{ ip: VIP, mac: '02:aa:00:00:00:01' }]; }), 'arp-answer');
    expect(unknown.title).toContain('host 02:aa:00:00:00:01');
    const failed = only(withEv((e) => { e.arp![0]!.error = 'arping: socket: Operation not permitted'; }), 'arp-probe');
    expect(failed.severity).toBe('info');
  });

  it('hash-port: sh/mh without the port flag while one client carries the load', () => {
    const busy = (e: DoctorEvidence, sched: string) => {
      e.services[0]!.scheduler = sched;
      e.sysctl['net.ipv4.vs.sloppy_tcp'] = 1;
      e.conns!.services = [{ service: `TCP ${VIP}:80`, connections: 12, clients: 1, clientsCapped: false, byDestination: { [`${RS1}:80`]: 12 } }];
    };
    const f = only(withEv((e) => busy(e, 'sh')), 'hash-port');
    expect(f.fix).toEqual([`ipvsadm -E -t ${VIP}:80 -s sh -b sh-port`]);
    expect(f.evidence).toContain(`${RS1}:80 carries 12 of them (100%)`);
    expect(only(withEv((e) => busy(e, 'mh')), 'hash-port').fix[0]).toContain('-s mh -b mh-port');
    expect(withEv((e) => { busy(e, 'sh'); e.services[0]!.flags.sched2 = true; })).toEqual([]);
    expect(withEv((e) => { busy(e, 'sh'); e.conns!.services[0]!.clients = 40; })).toEqual([]);
    expect(withEv((e) => { busy(e, 'rr'); })).toEqual([]);
  });

  it('every check is reachable by some test above and sorted most severe first', () => {
    const f = withEv((e) => { e.sysctl['net.ipv4.vs.drop_packet'] = 3; e.sysctl['net.ipv4.ip_forward'] = 0; });
    expect(checks(f)).toEqual(['nat-ip-forward', 'defense-always']);
    expect(new Set(CHECKS).size).toBe(CHECKS.length);
  });
});

describe('doctor evidence helpers', () => {
  const e = healthyEvidence();
  it('routeTo takes the longest prefix', () => {
    const routes = [...e.routes, { dst: '0.0.0.0', prefix: 0, dev: 'eth1', gateway: '10.0.0.1' }, { dst: '192.168.150.12', prefix: 32, dev: 'eth2', gateway: null }];
    expect(routeTo(routes, RS1)?.dev).toBe('eth2');
    expect(routeTo(routes, RS2)?.dev).toBe('br0');
    expect(routeTo(routes, '8.8.8.8')?.dev).toBe('eth1');
  });
  it('sourceOn picks the address in the real server\'s subnet, not the /32 VIP', () => {
    expect(sourceOn(e.interfaces, 'br0', RS1)).toBe('192.168.150.1');
    expect(sourceOn(e.interfaces, 'nope', RS1)).toBeNull();
  });
  it('arpProbeTargets: one probe per VIP and interface of the DR services', () => {
    expect(arpProbeTargets(e)).toEqual([{ vip: VIP, interface: 'br0', source: '192.168.150.1' }]);
    expect(arpProbeTargets({ ...e, services: e.services.slice(1) })).toEqual([]);
  });
});
