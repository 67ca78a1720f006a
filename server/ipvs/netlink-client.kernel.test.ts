/**
 * NetlinkIpvs against the real kernel, checked with the real ipvsadm in the
 * same kernel (modelled on the kernel selftest ipvs.sh). Every case runs both
 * ways: Director writes and `ipvsadm -Sn` must print exactly the expected
 * lines; ipvsadm restores those lines and Director must read the same model.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IpvsError } from '@/lib/ipvs/errors';
import { SCHEDULERS, type DestinationSpec, type ServiceEntry, type ServiceSpec } from '@/lib/ipvs/model';
import type { NetlinkIpvs } from './netlink-client';
import { openIpvs } from './open';
import { dst, fwm, ipvsadm, ipvsadmRestore, persistent, savedLines, sctp, sh, svc, tcp, udp } from './kernel-test-helpers';

interface Case {
  name: string;
  spec: ServiceSpec;
  line: string;
  dests?: [DestinationSpec, string][];
}

const v6svc = tcp('2001:db8::1', 443);
const CASES: Case[] = [
  ...SCHEDULERS.map((s, i): Case => ({
    name: `scheduler ${s}`,
    spec: svc(tcp('10.1.0.1', 1000 + i), { scheduler: s }),
    line: `-A -t 10.1.0.1:${1000 + i} -s ${s}`,
    dests: [[dst('192.168.10.1', 8080, { forward: 'nat', weight: 2 }), `-a -t 10.1.0.1:${1000 + i} -r 192.168.10.1:8080 -m -w 2`]],
  })),
  { name: 'sh-fallback,sh-port', spec: svc(tcp('10.2.0.1', 80), { scheduler: 'sh', flags: { ...persistent, persistent: false, sched1: true, sched2: true } }), line: '-A -t 10.2.0.1:80 -s sh -b sh-fallback,sh-port' },
  { name: 'sh-port alone', spec: svc(tcp('10.2.0.4', 80), { scheduler: 'sh', flags: { ...persistent, persistent: false, sched2: true } }), line: '-A -t 10.2.0.4:80 -s sh -b sh-port' },
  { name: 'mh-fallback,mh-port', spec: svc(tcp('10.2.0.2', 80), { scheduler: 'mh', flags: { ...persistent, persistent: false, sched1: true, sched2: true } }), line: '-A -t 10.2.0.2:80 -s mh -b mh-fallback,mh-port' },
  { name: 'flag-1..3', spec: svc(tcp('10.2.0.3', 80), { scheduler: 'rr', flags: { persistent: false, onePacket: false, sched1: true, sched2: true, sched3: true } }), line: '-A -t 10.2.0.3:80 -s rr -b flag-1,flag-2,flag-3' },
  {
    name: 'persistence with netmask, DR and ipip real servers',
    spec: svc(tcp('10.3.0.1', 443), { scheduler: 'wrr', flags: persistent, timeout: 300, netmask: '255.255.255.0' }),
    line: '-A -t 10.3.0.1:443 -s wrr -p 300 -M 255.255.255.0',
    dests: [
      [dst('10.0.0.50', 443), '-a -t 10.3.0.1:443 -r 10.0.0.50:443 -g -w 1'],
      [dst('10.0.0.51', 443, { forward: 'tun', weight: 3 }), '-a -t 10.3.0.1:443 -r 10.0.0.51:443 -i -w 3 --tun-type ipip'],
    ],
  },
  { name: 'port 0 persistent', spec: svc(tcp('10.3.0.2', 0), { flags: persistent, timeout: 360 }), line: '-A -t 10.3.0.2:0 -s wlc -p 360' },
  { name: 'pe sip', spec: svc(udp('10.3.0.3', 5060), { scheduler: 'rr', flags: persistent, timeout: 30, pe: 'sip' }), line: '-A -u 10.3.0.3:5060 -s rr -p 30 --pe sip' },
  {
    name: 'one-packet UDP',
    spec: svc(udp('10.3.0.4', 53), { flags: { ...persistent, persistent: false, onePacket: true } }),
    line: '-A -u 10.3.0.4:53 -s wlc -o',
    dests: [[dst('192.168.1.20', 53, { weight: 0 }), '-a -u 10.3.0.4:53 -r 192.168.1.20:53 -g -w 0']],
  },
  {
    name: 'SCTP',
    spec: svc(sctp('10.3.0.5', 3868), { scheduler: 'nq' }),
    line: '-A --sctp-service 10.3.0.5:3868 -s nq',
    dests: [[dst('192.168.1.50', 3868, { forward: 'nat' }), '-a --sctp-service 10.3.0.5:3868 -r 192.168.1.50:3868 -m -w 1']],
  },
  {
    name: 'IPv6 with prefix, NAT v6 and GUE/GRE tunnels to IPv4',
    spec: svc(v6svc, { scheduler: 'rr', flags: persistent, timeout: 60, netmask: '64' }),
    line: '-A -t [2001:db8::1]:443 -s rr -p 60 -M 64',
    dests: [
      [dst('2001:db8::a', 8080, { forward: 'nat', weight: 2 }), '-a -t [2001:db8::1]:443 -r [2001:db8::a]:8080 -m -w 2'],
      [dst('192.168.1.40', 443, { forward: 'tun', tunnel: { type: 'gue', port: 6080, checksum: 'csum' } }), '-a -t [2001:db8::1]:443 -r 192.168.1.40:443 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum'],
      [dst('192.168.1.41', 443, { forward: 'tun', tunnel: { type: 'gue', port: 6081, checksum: 'remcsum' } }), '-a -t [2001:db8::1]:443 -r 192.168.1.41:443 -i -w 1 --tun-type gue --tun-port 6081 --tun-remcsum'],
      [dst('192.168.1.42', 443, { forward: 'tun', tunnel: { type: 'gue', port: 6082, checksum: 'nocsum' } }), '-a -t [2001:db8::1]:443 -r 192.168.1.42:443 -i -w 1 --tun-type gue --tun-port 6082 --tun-nocsum'],
      [dst('192.168.1.43', 443, { forward: 'tun', tunnel: { type: 'gre', port: 0, checksum: 'csum' } }), '-a -t [2001:db8::1]:443 -r 192.168.1.43:443 -i -w 1 --tun-type gre --tun-csum'],
      [dst('192.168.1.44', 443, { forward: 'tun', tunnel: { type: 'gre', port: 0, checksum: 'nocsum' } }), '-a -t [2001:db8::1]:443 -r 192.168.1.44:443 -i -w 1 --tun-type gre --tun-nocsum'],
    ],
  },
  {
    name: 'fwmark IPv4 with NAT and ipip',
    spec: svc(fwm(7), { scheduler: 'wrr', flags: persistent, timeout: 360 }),
    line: '-A -f 7 -s wrr -p 360',
    dests: [
      [dst('192.168.1.30', 0, { forward: 'nat', weight: 3 }), '-a -f 7 -r 192.168.1.30:0 -m -w 3'],
      [dst('192.168.1.31', 0, { forward: 'tun' }), '-a -f 7 -r 192.168.1.31:0 -i -w 1 --tun-type ipip'],
    ],
  },
  {
    name: 'fwmark IPv6',
    spec: svc(fwm(9, 'inet6'), { scheduler: 'lc', flags: persistent, timeout: 100, netmask: '64' }),
    line: '-A -f 9 -6 -s lc -p 100 -M 64',
    dests: [[dst('2001:db8::b', 0), '-a -f 9 -6 -r [2001:db8::b]:0 -g -w 1']],
  },
  { name: 'fwmark one-packet', spec: svc(fwm(11), { scheduler: 'rr', flags: { ...persistent, persistent: false, onePacket: true } }), line: '-A -f 11 -s rr -o' },
];

const expectedLines = (c: Case) => [c.line, ...(c.dests ?? []).map(([, l]) => l)].sort();
const withoutCounters = (entries: ServiceEntry[]) => entries.map(({ stats: _s, destinations, ...spec }) => ({
  ...spec,
  destinations: destinations.map(({ stats: _d, activeConns: _a, inactiveConns: _i, persistentConns: _p, ...d }) => d)
    .sort((a, b) => a.address.localeCompare(b.address)),
}));

let ipvs: NetlinkIpvs;
beforeAll(async () => { ipvs = (await openIpvs()) as NetlinkIpvs; });
afterAll(() => { ipvs?.close(); });
afterEach(() => { ipvsadm('-C'); });

describe('Director writes, ipvsadm reads; ipvsadm writes, Director reads', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await ipvs.addService(c.spec);
    for (const [d] of c.dests ?? []) await ipvs.addDestination(c.spec.key, d);
    expect(savedLines()).toEqual(expectedLines(c));

    ipvsadm('-C');
    ipvsadmRestore(`${c.line}\n${(c.dests ?? []).map(([, l]) => `${l}\n`).join('')}`);
    const table = await ipvs.dump();
    expect(withoutCounters(table)).toEqual([{ ...c.spec, destinations: (c.dests ?? []).map(([d]) => d).sort((a, b) => a.address.localeCompare(b.address)) }]);
  });

  it('the whole table at once, read back identically by both', async () => {
    for (const c of CASES) {
      await ipvs.addService(c.spec);
      for (const [d] of c.dests ?? []) await ipvs.addDestination(c.spec.key, d);
    }
    expect(savedLines()).toEqual(CASES.flatMap(expectedLines).sort());
    const table = await ipvs.dump();
    expect(table).toHaveLength(CASES.length);
    const services = await ipvs.listServices();
    expect(services.map((s) => s.key)).toEqual(table.map((s) => s.key));
  });

  it('thresholds (not in ipvsadm -S): checked with ipvsadm -Ln --thresholds, both ways', async () => {
    await ipvs.addService(svc(tcp('10.4.0.1', 80)));
    await ipvs.addDestination(tcp('10.4.0.1', 80), dst('192.168.1.10', 8080, { forward: 'nat', upperThreshold: 100, lowerThreshold: 50 }));
    expect(ipvsadm('-Ln', '--thresholds')).toMatch(/^ {2}-> 192\.168\.1\.10:8080 +100 +50 +0 +0 *$/m);
    ipvsadm('-a', '-t', '10.4.0.1:80', '-r', '192.168.1.11:80', '-m', '-x', '2000', '-y', '1500');
    const dests = await ipvs.listDestinations(tcp('10.4.0.1', 80));
    expect(dests.find((d) => d.address === '192.168.1.11')).toMatchObject({ upperThreshold: 2000, lowerThreshold: 1500 });
  });

  it('listDestinations hands back its previous objects for byte-identical replies, and new ones where ipvsadm changed something', async () => {
    const key = tcp('10.4.0.2', 80);
    await ipvs.addService(svc(key));
    for (const last of [10, 11, 12]) await ipvs.addDestination(key, dst(`192.168.1.${last}`, 80, { forward: 'nat' }));
    const a = await ipvs.listDestinations(key);
    const b = await ipvs.listDestinations(key);
    expect(b).toBe(a); // nothing changed: the same array
    ipvsadm('-e', '-t', '10.4.0.2:80', '-r', '192.168.1.11:80', '-m', '-w', '7');
    const c = await ipvs.listDestinations(key);
    expect(c).not.toBe(a);
    const at = <T extends { address: string }>(l: readonly T[], addr: string) => l.find((d) => d.address === addr);
    expect(at(c, '192.168.1.11')).not.toBe(at(a, '192.168.1.11'));
    expect(at(c, '192.168.1.11')!.weight).toBe(7);
    expect(at(a, '192.168.1.11')!.weight).toBe(1); // the object handed out before was not changed under its holder
    for (const addr of ['192.168.1.10', '192.168.1.12']) expect(at(c, addr)).toBe(at(a, addr));
    ipvsadm('-d', '-t', '10.4.0.2:80', '-r', '192.168.1.10:80');
    expect((await ipvs.listDestinations(key)).map((d) => d.address).sort()).toEqual(['192.168.1.11', '192.168.1.12']);
  });

  it('getService reads one service; listDestinations of a missing service is empty, as in the kernel', async () => {
    ipvsadm('-A', '-t', '10.5.0.1:80', '-s', 'sed', '-p', '120');
    const s = await ipvs.getService(tcp('10.5.0.1', 80));
    expect(s).toMatchObject({ scheduler: 'sed', timeout: 120, flags: { persistent: true } });
    expect(await ipvs.listDestinations(tcp('10.5.0.2', 80))).toEqual([]);
  });
});

describe('edit, delete, flush', () => {
  it('updateService replaces everything; updateDestination replaces weight, method and thresholds', async () => {
    const key = tcp('10.6.0.1', 80);
    await ipvs.addService(svc(key, { scheduler: 'sh', flags: { ...persistent, sched2: true }, timeout: 300, netmask: '255.255.0.0' }));
    await ipvs.addDestination(key, dst('10.6.1.1', 80));
    await ipvs.updateService(svc(key, { scheduler: 'wrr' }));
    await ipvs.updateDestination(key, dst('10.6.1.1', 80, { forward: 'tun', weight: 7, upperThreshold: 10, lowerThreshold: 5, tunnel: { type: 'gue', port: 5555, checksum: 'csum' } }));
    expect(savedLines()).toEqual(['-A -t 10.6.0.1:80 -s wrr', '-a -t 10.6.0.1:80 -r 10.6.1.1:80 -i -w 7 --tun-type gue --tun-port 5555 --tun-csum']);
    expect(ipvsadm('-Ln', '--thresholds')).toMatch(/-> 10\.6\.1\.1:80 +10 +5 /);
  });

  it('removeDestination, removeService, flush', async () => {
    const a = tcp('10.6.0.2', 80), b = udp('10.6.0.3', 53);
    await ipvs.addService(svc(a));
    await ipvs.addService(svc(b));
    await ipvs.addDestination(a, dst('10.6.1.2', 80));
    await ipvs.addDestination(a, dst('10.6.1.3', 80));
    await ipvs.removeDestination(a, { family: 'inet', address: '10.6.1.2', port: 80 });
    expect(savedLines()).toEqual(['-A -t 10.6.0.2:80 -s wlc', '-A -u 10.6.0.3:53 -s wlc', '-a -t 10.6.0.2:80 -r 10.6.1.3:80 -g -w 1']);
    await ipvs.removeService(a);
    expect(savedLines()).toEqual(['-A -u 10.6.0.3:53 -s wlc']);
    await ipvs.flush();
    expect(savedLines()).toEqual([]);
  });
});

describe('timeouts and sync daemons', () => {
  afterEach(() => {
    ipvsadm('--set', '900', '120', '300');
    for (const s of ['master', 'backup']) { try { ipvsadm('--stop-daemon', s); } catch { /* not running */ } }
    sh('ip link del dsync0 2>/dev/null || true');
  });

  it('getTimeouts/setTimeouts agree with ipvsadm -L --timeout; 0 keeps a value', async () => {
    expect(await ipvs.getTimeouts()).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
    await ipvs.setTimeouts({ tcp: 1000, udp: 40 });
    expect(ipvsadm('-L', '--timeout').trim()).toBe('Timeout (tcp tcpfin udp): 1000 120 40');
    ipvsadm('--set', '0', '77', '0');
    expect(await ipvs.getTimeouts()).toEqual({ tcp: 1000, tcpFin: 77, udp: 40 });
  });

  it('start/list/stop sync daemons, compared with ipvsadm -L --daemon', async () => {
    sh('ip link add dsync0 type veth peer name dsync1 && ip link set dsync0 up && ip link set dsync1 up');
    expect(await ipvs.listDaemons()).toEqual([]);
    await ipvs.startDaemon({ state: 'master', interface: 'dsync0', syncId: 7, port: 9000, ttl: 2, group: '239.1.1.1', maxLen: 1400 });
    ipvsadm('--start-daemon', 'backup', '--mcast-interface', 'dsync0', '--syncid', '8');
    const text = ipvsadm('-L', '--daemon');
    expect(text).toContain('master sync daemon (mcast=dsync0, syncid=7, maxlen=1400, group=239.1.1.1, port=9000, ttl=2)');
    const daemons = await ipvs.listDaemons();
    expect(daemons).toHaveLength(2);
    expect(daemons[0]).toEqual({ state: 'master', interface: 'dsync0', syncId: 7, maxLen: 1400, group: '239.1.1.1', port: 9000, ttl: 2 });
    expect(daemons[1]).toMatchObject({ state: 'backup', interface: 'dsync0', syncId: 8, group: '224.0.0.81', port: 8848 });
    const backupLine = text.split('\n').find((l) => l.startsWith('backup'))!;
    expect(backupLine).toBe(`backup sync daemon (mcast=dsync0, syncid=8, maxlen=${daemons[1]!.maxLen}, group=224.0.0.81, port=8848, ttl=${daemons[1]!.ttl})`);
    await expect(ipvs.startDaemon({ state: 'master', interface: 'dsync0', syncId: 1 })).rejects.toMatchObject({ code: 'daemon_exists' });
    await ipvs.stopDaemon('master');
    await ipvs.stopDaemon('backup');
    expect(ipvsadm('-L', '--daemon')).toBe('');
    await expect(ipvs.stopDaemon('backup')).rejects.toMatchObject({ code: 'daemon_not_running', message: 'no backup sync daemon runs' });
  });
});

describe('errors: typed, named, and the table unchanged', () => {
  const key = tcp('192.168.150.100', 80);
  async function expectRefused(p: Promise<unknown>, code: string, message: string | RegExp) {
    const before = ipvsadm('-Sn');
    let err: unknown;
    try { await p; } catch (e) { err = e; }
    expect(err).toBeInstanceOf(IpvsError);
    expect((err as IpvsError).code).toBe(code);
    if (typeof message === 'string') expect((err as IpvsError).message).toBe(message);
    else expect((err as IpvsError).message).toMatch(message);
    expect(ipvsadm('-Sn')).toBe(before);
  }

  it('duplicate service, unknown scheduler, missing service, missing destination', async () => {
    await ipvs.addService(svc(key, { scheduler: 'rr' }));
    await ipvs.addDestination(key, dst('192.168.150.12', 80));
    await expectRefused(ipvs.addService(svc(key)), 'service_exists', 'virtual service TCP 192.168.150.100:80 already exists');
    await expectRefused(ipvs.addService(svc(tcp('192.168.150.101', 80), { scheduler: 'roundrobin' })), 'unknown_scheduler',
      "unknown scheduler 'roundrobin' (known: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh)");
    await expectRefused(ipvs.updateService(svc(key, { scheduler: 'roundrobin' })), 'unknown_scheduler', /unknown scheduler 'roundrobin'/);
    await expectRefused(ipvs.addService(svc(udp('192.168.150.101', 5060), { flags: persistent, timeout: 10, pe: 'xyz' })), 'unknown_scheduler', "unknown persistence engine 'xyz' (known: sip)");
    const missing = tcp('192.168.150.200', 80);
    await expectRefused(ipvs.updateService(svc(missing)), 'service_not_found', 'virtual service TCP 192.168.150.200:80 does not exist');
    await expectRefused(ipvs.removeService(missing), 'service_not_found', 'virtual service TCP 192.168.150.200:80 does not exist');
    await expectRefused(ipvs.getService(missing), 'service_not_found', 'virtual service TCP 192.168.150.200:80 does not exist');
    await expectRefused(ipvs.zero(missing), 'service_not_found', 'virtual service TCP 192.168.150.200:80 does not exist');
    await expectRefused(ipvs.addDestination(missing, dst('192.168.150.12', 80)), 'service_not_found', 'virtual service TCP 192.168.150.200:80 does not exist');
    await expectRefused(ipvs.addDestination(key, dst('192.168.150.12', 80)), 'destination_exists',
      'real server 192.168.150.12:80 already exists in virtual service TCP 192.168.150.100:80');
    await expectRefused(ipvs.removeDestination(key, { family: 'inet', address: '192.168.150.13', port: 80 }), 'destination_not_found',
      'real server 192.168.150.13:80 not found in virtual service TCP 192.168.150.100:80');
    await expectRefused(ipvs.updateDestination(key, dst('192.168.150.13', 80)), 'destination_not_found',
      'real server 192.168.150.13:80 not found in virtual service TCP 192.168.150.100:80');
  });

  it('IPv6 real server in an IPv4 service without tunnel; ranges; what the kernel itself refuses', async () => {
    await ipvs.addService(svc(key));
    await expectRefused(ipvs.addDestination(key, dst('2001:db8::5', 80, { forward: 'nat' })), 'invalid',
      'IPv6 real server in IPv4 virtual service requires tunnel forwarding');
    await expectRefused(ipvs.addDestination(key, dst('192.168.150.12', 70000)), 'out_of_range', /port 70000 .* out of range/);
    await expectRefused(ipvs.addService(svc(tcp('192.168.150.101', 65536))), 'out_of_range', /port 65536 .* out of range/);
    await expectRefused(ipvs.addDestination(key, dst('192.168.150.12', 80, { weight: -1 })), 'out_of_range', /weight -1 is out of range/);
    await expectRefused(ipvs.addDestination(key, dst('192.168.150.12', 80, { weight: 2 ** 31 })), 'out_of_range', /weight 2147483648 is out of range/);
    await expectRefused(ipvs.addDestination(key, dst('192.168.150.12', 80, { upperThreshold: 0, lowerThreshold: 5 })), 'out_of_range', /lower threshold 5 is above upper threshold 0/);
    await expectRefused(ipvs.addService(svc(tcp('192.168.150.101', 0))), 'invalid', /port 0 \(all ports\) is only allowed for a persistent service/);
    await expectRefused(ipvs.addService(svc(tcp('192.168.150.101', 53), { flags: { ...persistent, persistent: false, onePacket: true } })), 'invalid', /one-packet scheduling is only for UDP/);
    await expectRefused(ipvs.addService(svc(tcp('192.168.150.101', 80), { flags: persistent, timeout: 10, netmask: '0.0.0.24' })), 'invalid', /netmask 0\.0\.0\.24 is not contiguous/);
    await expectRefused(ipvs.addDestination(key, dst('192.168.150.12', 80, { tunnel: { type: 'gue', port: 1, checksum: 'csum' } })), 'invalid', /tunnel options need tunnel forwarding/);
    await expectRefused(ipvs.addService(svc(tcp('2001:db8::99', 80), { flags: persistent, timeout: 5, netmask: '0' })), 'invalid', /prefix length 1\.\.128/);
    // timeouts above INT_MAX / HZ, for any HZ up to 1000
    await expectRefused(ipvs.setTimeouts({ tcp: 2 ** 31 - 1 }), 'invalid', /too large/);
  });
});
