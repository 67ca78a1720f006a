import { describe, expect, it } from 'vitest';
import { formatList } from '../ipvs/list-format';
import { DEFAULT_TUNNEL, ZERO_STATS, type DestinationState, type ServiceEntry, type ServiceKey } from '../ipvs/model';
import { parseIPv6 } from '../net/ip';
import { formatSnapshot } from '../snapshot/format';
import { PLAIN_SERVICE_COLS } from '../ipvs/backend';
import { parseProcIpvsTable } from './ip-vs';
import { printProcListing, printsFromRows, type ProcListingLayout } from './ip-vs-listing';

// The printer against the general formatters on the same table: every kind of service and real server,
// the sort quirks (addresses 2^31 apart compare "wrongly" in libipvs), and the rows it leaves to objects.

const HZ = 100;
const INFO = { version: '1.2.1', versionCode: 0x010201, connTableSize: 4096 };
const hex = (v: number, n: number) => (v >>> 0).toString(16).toUpperCase().padStart(n, '0');
const ipv4Hex = (a: string) => hex(a.split('.').reduce((w, p) => w * 256 + Number(p), 0), 8);
const ipv6Full = (a: string) => [...parseIPv6(a)!].map((b) => b.toString(16).padStart(2, '0')).join('').replace(/(.{4})(?!$)/g, '$1:');
const hostPort = (family: string, address: string, port: number) => (family === 'inet' ? `${ipv4Hex(address)}:${hex(port, 4)}` : `[${ipv6Full(address)}]:${hex(port, 4)}`);
const FWD = { nat: 'Masq', local: 'Local', tun: 'Tunnel', dr: 'Route', bypass: 'Masq' };

/** /proc/net/ip_vs as the kernel prints these entries (reference §7.1). */
function procText(entries: ServiceEntry[]): string {
  let out = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n';
  for (const s of entries) {
    const k = s.key;
    out += k.kind === 'fwmark' ? `FWM  ${hex(k.fwmark, 8)} ${s.scheduler} ` : `${k.protocol.toUpperCase()}  ${hostPort(k.family, k.address, k.port)} ${s.scheduler} `;
    if (s.flags.onePacket && k.family === 'inet') out += 'ops ';
    if (s.flags.persistent) {
      const mask = k.family === 'inet' ? ipv4Hex(s.netmask) : hex(((Number(s.netmask) & 255) << 24) >>> 0, 8);
      out += `persistent ${s.timeout * HZ} ${mask}\n`;
    } else out += '\n';
    for (const d of s.destinations) {
      out += `  -> ${hostPort(d.family, d.address, d.port)}      ${FWD[d.forward].padEnd(7)} ${String(d.weight).padEnd(6)} ${String(d.activeConns).padEnd(10)} ${String(d.inactiveConns).padEnd(10)}\n`;
    }
  }
  return out;
}

const flags = { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false };
function service(key: ServiceKey, more: Partial<ServiceEntry>, dests: Partial<DestinationState>[]): ServiceEntry {
  return {
    key, scheduler: 'rr', flags, timeout: 0, netmask: key.family === 'inet' ? '255.255.255.255' : '128', pe: null, stats: ZERO_STATS, ...more,
    destinations: dests.map((d) => ({
      family: 'inet', address: '10.1.1.1', port: 80, forward: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: DEFAULT_TUNNEL,
      activeConns: 0, inactiveConns: 0, persistentConns: 0, stats: ZERO_STATS, ...d,
    })),
  };
}
const tcp = (address: string, port: number): ServiceKey => ({ kind: 'addr', family: 'inet', protocol: 'tcp', address, port });

/** In the kernel's order (not sorted): the printer sorts as ipvsadm does. */
const TABLE: ServiceEntry[] = [
  service(tcp('200.0.0.1', 80), {}, [
    { address: '200.0.0.9', port: 80 }, { address: '10.0.0.2', port: 8080, weight: 0 }, { address: '10.0.0.2', port: 80, activeConns: 123456, inactiveConns: 7 },
    { address: '255.255.255.255', port: 65535, forward: 'nat', weight: 2147483647 }, { address: '0.0.0.0', port: 0, forward: 'local' },
  ]),
  service(tcp('10.0.0.1', 443), { scheduler: 'sh', flags: { ...flags, persistent: true, sched1: true, sched2: true }, timeout: 300, netmask: '255.255.255.0' }, [
    { address: '10.9.9.9', port: 443, forward: 'nat', weight: 5 },
  ]),
  service({ kind: 'addr', family: 'inet', protocol: 'udp', address: '10.0.0.1', port: 53 }, { scheduler: 'wlc', flags: { ...flags, onePacket: true } }, []),
  service({ kind: 'addr', family: 'inet', protocol: 'sctp', address: '10.0.0.3', port: 9 }, {}, [
    { address: '10.0.3.1', port: 9, forward: 'tun', tunnel: { type: 'gue', port: 6080, checksum: 'csum' } }, { address: '10.0.3.2', port: 9 },
  ]),
  service({ kind: 'addr', family: 'inet6', protocol: 'tcp', address: '2001:db8::1', port: 80 }, { flags: { ...flags, persistent: true }, timeout: 60, netmask: '64' }, [
    { family: 'inet6', address: '2001:db8::b', port: 80 }, { family: 'inet6', address: '2001:db8::a', port: 80, forward: 'nat' },
  ]),
  service({ kind: 'fwmark', family: 'inet', fwmark: 7 }, { scheduler: 'wrr', pe: 'sip', flags: { ...flags, persistent: true }, timeout: 900 }, [
    { address: '192.168.1.30', port: 0, weight: 3 }, { address: '192.168.1.4', port: 0 },
  ]),
  service({ kind: 'fwmark', family: 'inet6', fwmark: 0xffffffff }, {}, [{ family: 'inet6', address: 'fe80::1', port: 0, forward: 'tun' }]),
];

/** What listStructure leaves out: the spec of a service the file's numbers say all of. */
const isPlain = (s: ServiceEntry) => s.key.kind === 'addr' && s.key.family === 'inet' && !Object.values(s.flags).some(Boolean)
  && s.timeout === 0 && s.netmask === '255.255.255.255' && !s.pe;

function print(entries: ServiceEntry[], layout: ProcListingLayout, nosort = false, everySpec = false): string {
  const proc = parseProcIpvsTable(procText(entries), HZ);
  const asked: number[] = [];
  let out = '';
  const dec = new TextDecoder();
  const specs = entries.map((e, i) => (!everySpec && proc.services.cols[i * PLAIN_SERVICE_COLS] !== 0 && isPlain(e) ? undefined : e));
  printProcListing({
    services: proc.services, specs, rows: proc.rows,
    destinations: (i) => { asked.push(i); return entries[i]!.destinations; },
  }, { layout, info: INFO, nosort, emit: (b) => { out += dec.decode(b); } });
  // only the services the rows cannot print were asked for
  expect(asked.sort()).toEqual(entries.map((_, i) => i).filter((i) => !printsFromRows(proc.rows, i, layout)));
  return out;
}

describe('printProcListing', () => {
  it('prints ipvsadm -Ln\'s default layout as the general formatter does, sorted or not', () => {
    expect(print(TABLE, 'list')).toBe(formatList(TABLE, INFO));
    expect(print(TABLE, 'list', true)).toBe(formatList(TABLE, INFO, { nosort: true }));
    expect(print(TABLE, 'list', false, true)).toBe(formatList(TABLE, INFO));
  });

  it('prints ipvsadm -Sn as the snapshot formatter does without thresholds, tunnels from objects', () => {
    expect(print(TABLE, 'save')).toBe(formatSnapshot(TABLE, { thresholds: false }));
    expect(print(TABLE, 'save', false, true)).toBe(formatSnapshot(TABLE, { thresholds: false }));
  });

  it('prints plain services from the file\'s numbers, every protocol, in both layouts', () => {
    const plain = (['tcp', 'udp', 'sctp'] as const).flatMap((protocol, p) => [
      service({ kind: 'addr', family: 'inet', protocol, address: '255.255.255.255', port: 65535 }, { scheduler: 'wlc' }, [{ forward: 'tun' }]),
      service({ kind: 'addr', family: 'inet', protocol, address: `10.0.${p}.1`, port: 0 }, { scheduler: 'mh' }, [{ address: '10.0.0.2' }, { address: '10.0.0.1' }]),
      service({ kind: 'addr', family: 'inet', protocol, address: `200.0.${p}.1`, port: 80 }, {}, [{ family: 'inet6', address: '2001:db8::1' }]),
    ]);
    expect(parseProcIpvsTable(procText(plain), HZ).services.others.size).toBe(0);
    expect(print(plain, 'list')).toBe(formatList(plain, INFO));
    expect(print(plain, 'list', true)).toBe(formatList(plain, INFO, { nosort: true }));
    expect(print(plain, 'save')).toBe(formatSnapshot(plain, { thresholds: false }));
  });

  it('prints IPv4 real servers from the rows, leaving IPv6 ones and (in save) tunnels to objects', () => {
    const rows = parseProcIpvsTable(procText(TABLE), HZ).rows;
    expect(TABLE.map((_, i) => printsFromRows(rows, i, 'list'))).toEqual([true, true, true, true, false, true, false]);
    expect(TABLE.map((_, i) => printsFromRows(rows, i, 'save'))).toEqual([true, true, true, false, false, true, false]);
  });

  it('hands a long listing over in pieces that together are the whole text', () => {
    const many = Array.from({ length: 3000 }, (_, i) => service(tcp(`10.${i >> 8}.${i & 255}.1`, 80), {}, [{ address: `172.16.${i & 255}.1` }, { address: '172.16.0.2' }]));
    const proc = parseProcIpvsTable(procText(many), HZ);
    const pieces: string[] = [];
    printProcListing({ services: proc.services, specs: [], rows: proc.rows, destinations: () => [] },
      { layout: 'list', info: INFO, emit: (b) => { pieces.push(new TextDecoder().decode(b)); } });
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(formatList(many, INFO));
  });
});
