import { describe, expect, it } from 'vitest';
import { ProcParseError, parseProcIpvs, parseProcIpvsTable } from './ip-vs';
import { parseProcIpvsStats, parseProcIpvsStatsPercpu } from './ip-vs-stats';
import { LAB_PROC_IP_VS as LAB } from './lab-capture';


// Reference §7.1 example (HZ=250).
const REF = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  0A000001:0050 rr  
  -> C0A8010A:1F90      Masq    5      0          0         
TCP  0A000002:01BB sh  persistent 150000 FFFFFF00
FWM  00000007 wrr persistent 90000 FFFFFFFF
  -> C0A8011E:0000      Masq    3      12         40        
`;

describe('parseProcIpvsTable', () => {
  it('gives the services and real servers parseProcIpvs gives, the real servers made anew on each call', () => {
    for (const text of [LAB, REF]) {
      const whole = parseProcIpvs(text, 100);
      const t = parseProcIpvsTable(text, 100);
      expect(Array.from({ length: t.services.count }, (_, i) => ({ ...t.service(i), destinations: t.destinations(i) }))).toEqual(whole.services);
      expect([t.version, t.connTableSize]).toEqual([whole.version, whole.connTableSize]);
    }
    const t = parseProcIpvsTable(LAB, 100);
    // the IPv4 lines come from numbers, the IPv6 one from the general parser
    expect(t.destinations(3)).toEqual([{ family: 'inet', address: '10.2.2.2', port: 80, forward: 'nat', weight: 3, activeConns: 0, inactiveConns: 0 }]);
    expect(t.destinations(1)[0]).toMatchObject({ family: 'inet6', address: '2001:db8::a', port: 8080 });
    expect(t.destinations(3)[0]).not.toBe(t.destinations(3)[0]);
  });

  it('keeps plain IPv4 services as numbers, the others as the general parser\'s objects', () => {
    const t = parseProcIpvsTable(REF, 250);
    // TCP 10.0.0.1:80 rr: IPPROTO_TCP, the address as a host-order u32, the port, the scheduler's index
    expect([...t.services.cols.subarray(0, 4)]).toEqual([6, 0x0a000001, 80, 0]);
    expect(t.services.schedulers[0]).toBe('rr');
    expect(t.service(0)).toEqual({
      key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 }, scheduler: 'rr',
      persistent: false, timeout: 0, timeoutJiffies: 0, netmask: '', onePacket: false, destinations: [],
    });
    expect(t.services.cols[4]).toBe(0);
    expect(t.service(1)).toBe(t.services.others.get(1));
    expect(t.service(1)).toMatchObject({ scheduler: 'sh', persistent: true, netmask: '255.255.255.0' });
  });

  it('refuses a bad real-server line at parse time, naming it, as parseProcIpvs does', () => {
    const bad = `${REF}  -> C0A8011E:0000      Masq    x      12         40        \n`;
    expect(() => parseProcIpvsTable(bad, 250)).toThrow(/line 9: expected weight, active and inactive counts/);
  });
});

describe('parseProcIpvs', () => {
  it('the lab capture (HZ=100)', () => {
    const p = parseProcIpvs(LAB, 100);
    expect(p.version).toBe('1.2.1');
    expect(p.connTableSize).toBe(4096);
    expect(p.services.map((s) => [s.key, s.scheduler, s.persistent, s.timeout, s.netmask, s.onePacket])).toEqual([
      [{ kind: 'addr', family: 'inet', protocol: 'sctp', address: '10.1.1.3', port: 3868 }, 'nq', false, 0, '', false],
      [{ kind: 'addr', family: 'inet6', protocol: 'tcp', address: '2001:db8::1', port: 80 }, 'sh', true, 100, '64', false],
      [{ kind: 'addr', family: 'inet', protocol: 'udp', address: '10.1.1.1', port: 53 }, 'wlc', false, 0, '', true],
      [{ kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.1.1.1', port: 80 }, 'rr', true, 300, '255.255.255.0', false],
      [{ kind: 'fwmark', family: 'inet', fwmark: 7 }, 'rr', true, 60, '255.255.255.255', false],
      [{ kind: 'fwmark', family: 'inet6', fwmark: 9 }, 'rr', true, 60, '64', false],
    ]);
    expect(p.services.flatMap((s) => s.destinations)).toEqual([
      { family: 'inet6', address: '2001:db8::a', port: 8080, forward: 'nat', weight: 1, activeConns: 0, inactiveConns: 0 },
      { family: 'inet', address: '10.2.2.3', port: 53, forward: 'dr', weight: 1, activeConns: 0, inactiveConns: 0 },
      { family: 'inet', address: '10.2.2.2', port: 80, forward: 'nat', weight: 3, activeConns: 0, inactiveConns: 0 },
      { family: 'inet', address: '10.2.2.2', port: 0, forward: 'tun', weight: 1, activeConns: 0, inactiveConns: 0 },
      { family: 'inet6', address: '2001:db8::b', port: 0, forward: 'dr', weight: 1, activeConns: 0, inactiveConns: 0 },
    ]);
  });

  it('the reference example (HZ=250), with connection counts', () => {
    const p = parseProcIpvs(REF, 250);
    expect(p.services.map((s) => s.timeout)).toEqual([0, 600, 360]);
    expect(p.services[1]!.timeoutJiffies).toBe(150000);
    expect(p.services[2]!.destinations[0]).toMatchObject({ address: '192.168.1.30', activeConns: 12, inactiveConns: 40 });
  });

  it('an IPv6 prefix printed by a big-endian kernel (not swapped) reads the same', () => {
    expect(parseProcIpvs(LAB.replace('10000 40000000', '10000 00000040'), 100).services[1]!.netmask).toBe('64');
  });

  it('an empty table', () => {
    expect(parseProcIpvs(LAB.split('\n').slice(0, 3).join('\n'), 100).services).toEqual([]);
  });

  it.each([
    ['not the version line', 'hello\n', 1],
    ['a destination before any service', `${LAB.split('\n').slice(0, 3).join('\n')}\n  -> 0A020202:0050      Masq    3      0          0\n`, 4],
    ['an unknown forward method', LAB.replace('Masq    3', 'Foo     3'), 10],
    ['a bad address', LAB.replace('0A010101:0050', '0A01010:0050'), 9],
    ['an unknown protocol', LAB.replace('SCTP  0A010103', 'DCCP  0A010103'), 4],
    ['a missing count', LAB.replace('Masq    3      0          0', 'Masq    3      0'), 10],
    ['junk after the service', LAB.replace('wlc ops', 'wlc ops junk'), 7],
  ])('rejects %s, naming the line', (_n, text, line) => {
    let err: unknown;
    try { parseProcIpvs(text, 100); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ProcParseError);
    expect((err as ProcParseError).line).toBe(line);
  });

  it('rejects a bad HZ', () => {
    expect(() => parseProcIpvs(LAB, 0)).toThrow(/hz/);
  });
});

describe('parseProcIpvsStats', () => {
  it('the lab capture (all zero)', () => {
    const text = `   Total Incoming Outgoing         Incoming         Outgoing
   Conns  Packets  Packets            Bytes            Bytes
       0        0        0                0                0

 Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s
       0        0        0                0                0
`;
    expect(parseProcIpvsStats(text)).toEqual({
      conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0,
    });
  });

  it('hex values, including a 16-digit byte counter wider than the column', () => {
    const text = `   Total Incoming Outgoing         Incoming         Outgoing
   Conns  Packets  Packets            Bytes            Bytes
      1F      3E8       10         1234ABCD 10000000000000

 Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s
       2        A        B              FF0              100
`;
    expect(parseProcIpvsStats(text)).toEqual({
      conns: 31, inPkts: 1000, outPkts: 16, inBytes: 0x1234abcd, outBytes: 2 ** 52,
      cps: 2, inPps: 10, outPps: 11, inBps: 0xff0, outBps: 256,
    });
  });

  it('rejects a non-hex counter, naming the line', () => {
    expect(() => parseProcIpvsStats(`   Total Incoming Outgoing\n x\n 1 2 3 4 Z\n\n Conns/s   Pkts/s\n 0 0 0 0 0\n`))
      .toThrow(/line 3: 'Z' is not a hex counter/);
  });

  it('per-CPU file (lab capture shape, two CPUs)', () => {
    const text = `       Total Incoming Outgoing         Incoming         Outgoing
CPU    Conns  Packets  Packets            Bytes            Bytes
  0        1        2        3                4                5
  1        A        0        0                0               10
  ~        B        2        3                4               15

     Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s
           1        0        0                0                0
`;
    const p = parseProcIpvsStatsPercpu(text);
    expect(p.cpus.map((c) => [c.cpu, c.stats.conns, c.stats.outBytes])).toEqual([[0, 1, 5], [1, 10, 16]]);
    expect(p.total).toMatchObject({ conns: 11, outBytes: 21, cps: 1 });
  });
});
