import { describe, expect, it } from 'vitest';
import { formatList, largeNum, serviceLabel } from './list-format';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, ZERO_STATS, type DestinationState, type ServiceEntry } from './model';

const info = { version: '1.2.1', versionCode: 0x010201, connTableSize: 4096 };
const dest = (address: string, port: number, over: Partial<DestinationState> = {}): DestinationState => ({
  family: address.includes(':') ? 'inet6' : 'inet', address, port, forward: 'nat', weight: 1,
  upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL }, activeConns: 0, inactiveConns: 0,
  persistentConns: 0, stats: { ...ZERO_STATS }, ...over,
});

describe('largeNum (ipvsadm print_largenum)', () => {
  it.each([
    [0, '        0'], [99999999, ' 99999999'], [123456789, '  123456K'], [5000000000, '    5000M'],
    [1234567890123, '    1234G'], [987654321098765, '     987T'],
  ])('%d -> %j', (n, s) => expect(largeNum(n)).toBe(s));
  it('exact widens past 8 digits', () => {
    expect(largeNum(98765, true)).toBe('    98765');
    expect(largeNum(5000000000, true)).toBe(' 5000000000');
  });
});

describe('formatList', () => {
  const svc: ServiceEntry = {
    key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.2', port: 443 },
    scheduler: 'sh', flags: { ...DEFAULT_FLAGS, persistent: true, sched1: true, sched2: true },
    timeout: 600, netmask: '255.255.255.0', pe: null, stats: { ...ZERO_STATS },
    destinations: [dest('10.0.0.50', 443, { forward: 'dr' })],
  };
  it('emit hands over the same text in order, in pieces, and returns nothing', () => {
    const many: ServiceEntry[] = Array.from({ length: 800 }, (_, i) => ({
      ...svc, key: { ...svc.key, address: `10.1.${i >> 8}.${i & 255}` }, destinations: [dest(`10.9.0.${(i % 200) + 1}`, 80), dest('10.9.1.1', 80)],
    }));
    for (const format of ['default', 'stats'] as const) {
      const pieces: string[] = [];
      expect(formatList(many, info, { format, emit: (t) => pieces.push(t) })).toBe('');
      expect(pieces.length).toBeGreaterThan(1);
      expect(pieces.join('')).toBe(formatList(many, info, { format }));
    }
  });

  it('prints the verified ipvsadm -Ln lines', () => {
    expect(formatList([svc], info)).toBe(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
      'Prot LocalAddress:Port Scheduler Flags\n' +
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
      'TCP  10.0.0.2:443 sh (sh-fallback,sh-port) persistent 600 mask 255.255.255.0\n' +
      '  -> 10.0.0.50:443                Route   1      0          0         \n');
  });
  it('prints the stats layout', () => {
    const s = { ...svc, stats: { ...ZERO_STATS, conns: 5000000000, inPkts: 123456789, outPkts: 98765, inBytes: 1234567890123, outBytes: 987654321098765 } };
    const lines = formatList([s], info, { format: 'stats' }).split('\n');
    expect(lines[1]).toBe('Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes');
    expect(lines[3]).toBe('TCP  10.0.0.2:443                    5000M  123456K    98765    1234G     987T');
  });
  it('labels fwmark and IPv6 services', () => {
    expect(serviceLabel({ kind: 'fwmark', family: 'inet6', fwmark: 9 })).toBe('FWM  9 IPv6');
    expect(serviceLabel({ kind: 'addr', family: 'inet6', protocol: 'sctp', address: '2001:db8::1', port: 80 })).toBe('SCTP [2001:db8::1]:80');
  });
});
