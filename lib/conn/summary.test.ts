import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrContains } from '../net/ip';
import { CONN_HEADER, formatConnLine } from './format';
import { ConnScanner, type ConnEntry, parseConnTable } from './parse';
import {
  type ConnFilter, ConnFilterError, ConnPageCollector, type ConnPageRequest, ConnSummarizer,
} from './summary';
import { formatServiceKey as formatServiceLabel } from '../ipvs/format';
import { arbConnEntry } from './testing';

function summarize(text: string) {
  const s = new ConnSummarizer();
  const sc = new ConnScanner(s.add);
  sc.push(text);
  sc.end();
  return s.result(sc.malformed);
}

function page(text: string, req: ConnPageRequest) {
  const c = new ConnPageCollector(req);
  const sc = new ConnScanner(c.add);
  sc.push(text);
  sc.end();
  return c.result(sc.malformed);
}

const T = (client: string, cport: string, vip: string, vport: string, rip: string, state: string, proto = 'TCP') =>
  `${proto.padEnd(3)} ${client} ${cport} ${vip} ${vport} ${rip} ${vport} ${state.padEnd(11)}     100\n`;

// VIP 192.168.150.100:80 (C0A89664:0050) → rs1 .12 (C0A8960C), rs2 .13 (C0A8960D)
const TABLE = CONN_HEADER +
  T('C0A896C8', 'C350', 'C0A89664', '0050', 'C0A8960C', 'ESTABLISHED') +
  T('C0A896C8', 'C351', 'C0A89664', '0050', 'C0A8960D', 'ESTABLISHED') +
  T('C0A896C8', 'C352', 'C0A89664', '0050', 'C0A8960C', 'FIN_WAIT') +
  T('C0A896C9', 'C353', 'C0A89664', '0050', 'C0A8960D', 'SYN_RECV') +
  T('0A000001', 'C354', 'C0A89664', '0050', 'C0A8960D', 'SYN_RECV') +
  T('C0A896C8', 'A000', 'C0A89664', '0035', 'C0A8960C', 'UDP', 'UDP') +
  'IP  C0A89600 0000 00000007 0000 C0A8960C 0000 ASSURED         350\n' +
  'TCP C0A896C8 0000 C0A89664 01BB C0A8960C 01BB NONE            300\n' +
  'garbage line\n';

describe('ConnSummarizer', () => {
  const s = summarize(TABLE);

  it('totals, per state, templates and malformed', () => {
    expect(s).toMatchObject({
      connections: 6, templates: 2, active: 2, inactive: 4, malformed: 1,
      byState: { ESTABLISHED: 2, FIN_WAIT: 1, SYN_RECV: 2, UDP: 1 },
      templatesByState: { ASSURED: 1, NONE: 1 },
    });
  });

  it('per service (fwmark templates under FWM n)', () => {
    expect(s.services.map((x) => [x.label, x.connections, x.templates, x.active])).toEqual([
      ['FWM 7', 0, 1, 0],
      ['TCP 192.168.150.100:443', 0, 1, 0],
      ['TCP 192.168.150.100:80', 5, 0, 2],
      ['UDP 192.168.150.100:53', 1, 0, 0],
    ]);
  });

  it('per destination × state', () => {
    const http = s.destinations.filter((d) => d.serviceLabel === 'TCP 192.168.150.100:80');
    expect(http.map((d) => [d.label, d.byState])).toEqual([
      ['192.168.150.12:80', { ESTABLISHED: 1, FIN_WAIT: 1 }],
      ['192.168.150.13:80', { ESTABLISHED: 1, SYN_RECV: 2 }],
    ]);
  });

  it('per real server across services', () => {
    const rs1 = s.realServers.filter((d) => d.address === '192.168.150.12');
    expect(rs1.map((d) => [d.label, d.connections, d.templates])).toEqual([
      ['192.168.150.12:0', 0, 1], ['192.168.150.12:443', 0, 1], ['192.168.150.12:53', 1, 0], ['192.168.150.12:80', 2, 0],
    ]);
  });

  it('labels', () => {
    expect(formatServiceLabel({ kind: 'addr', family: 'inet6', protocol: 'tcp', address: '2001:db8::1', port: 80 }))
      .toBe('TCP [2001:db8::1]:80');
    expect(formatServiceLabel({ kind: 'fwmark', family: 'inet6', fwmark: 9 })).toBe('FWM 9 IPv6');
  });

  it('property: counts equal a naive count over parsed entries', () => {
    fc.assert(fc.property(fc.array(arbConnEntry, { maxLength: 60 }), (es) => {
      const text = CONN_HEADER + es.map(formatConnLine).join('');
      const sum = summarize(text);
      const conns = es.filter((e) => !e.template);
      expect(sum.connections).toBe(conns.length);
      expect(sum.templates).toBe(es.length - conns.length);
      const naive: Record<string, number> = {};
      for (const e of conns) naive[e.state] = (naive[e.state] ?? 0) + 1;
      expect(sum.byState).toEqual(naive);
      expect(sum.services.reduce((a, x) => a + x.connections + x.templates, 0)).toBe(es.length);
      expect(sum.destinations.reduce((a, x) => a + x.connections + x.templates, 0)).toBe(es.length);
      expect(sum.realServers.reduce((a, x) => a + x.active, 0)).toBe(sum.active);
    }));
  });

  it('per destination counts stay exact with more (service, real server) pairs than its pair cache holds', () => {
    // 3 protocols × 100 VIPs × 2 ports × 40 real servers = 24,000 pairs, each seen twice, far apart
    const hex = (v: number, w: number) => v.toString(16).toUpperCase().padStart(w, '0');
    const lines: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 24_000; i++) {
        const proto = ['TCP', 'UDP', 'SCTP'][i % 3]!, vip = 0xc0a80000 + ((i / 3) % 100 | 0), vport = 80 + ((i / 300) % 2 | 0);
        const rip = 0x0a000000 + ((i / 600) | 0);
        const state = proto === 'UDP' ? 'UDP' : proto === 'TCP' ? (round ? 'FIN_WAIT' : 'ESTABLISHED') : 'ESTABLISHED';
        lines.push(`${proto.padEnd(3)} ${hex(0x64000000 + i, 8)} ${hex(1024 + round, 4)} ${hex(vip, 8)} ${hex(vport, 4)} ${hex(rip, 8)} ${hex(vport, 4)} ${state.padEnd(11)}     100\n`);
      }
    }
    const sum = summarize(CONN_HEADER + lines.join(''));
    expect(sum.connections).toBe(48_000);
    expect(sum.destinations).toHaveLength(24_000);
    expect(sum.destinations.every((d) => d.connections === 2)).toBe(true);
    expect(sum.services).toHaveLength(600);
    expect(sum.services.every((s) => s.connections === 80)).toBe(true);
    expect(sum.realServers).toHaveLength(40 * 2);
    const tcp = sum.destinations.find((d) => d.serviceLabel === 'TCP 192.168.0.0:80' && d.address === '10.0.0.0');
    expect(tcp?.byState).toEqual({ ESTABLISHED: 1, FIN_WAIT: 1 });
  });
});

describe('ConnPageCollector', () => {
  const svc80 = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: 80 } as const;

  it.each<[string, ConnFilter, number]>([
    ['no filter', {}, 8],
    ['service', { service: svc80 }, 5],
    ['fwmark service', { service: { kind: 'fwmark', family: 'inet', fwmark: 7 } }, 1],
    ['destination with port', { destination: { address: '192.168.150.13', port: 80 } }, 3],
    ['destination any port', { destination: { address: '192.168.150.12' } }, 5],
    ['state', { state: 'SYN_RECV' }, 2],
    ['several states', { state: ['SYN_RECV', 'FIN_WAIT'] }, 3],
    ['client address', { client: '192.168.150.201' }, 1],
    ['client CIDR', { client: '192.168.150.0/24' }, 7],
    ['client /0', { client: '0.0.0.0/0' }, 8],
    ['protocol', { protocol: 'udp' }, 1],
    ['templates only', { template: true }, 2],
    ['combined', { service: svc80, state: 'SYN_RECV', client: '10.0.0.0/8' }, 1],
  ])('%s', (_n, filter, total) => {
    expect(page(TABLE, { filter, limit: 100 }).total).toBe(total);
  });

  it('pages: total counts every match, entries only the window', () => {
    const all = page(TABLE, { limit: 100 }).entries;
    const p = page(TABLE, { offset: 3, limit: 2 });
    expect(p.total).toBe(8);
    expect(p.entries).toEqual(all.slice(3, 5));
    expect(page(TABLE, { offset: 50, limit: 2 })).toMatchObject({ total: 8, entries: [] });
  });

  it.each<[string, ConnPageRequest, string]>([
    ['bad client', { filter: { client: '10.0.0.0/33' } }, 'client'],
    ['not an address', { filter: { client: 'example.com' } }, 'client'],
    ['bad state', { filter: { state: 'ESTAB LISHED' } }, 'state'],
    ['empty state list', { filter: { state: [] } }, 'state'],
    ['bad service address', { filter: { service: { ...svc80, address: '300.1.1.1' } } }, 'service.address'],
    ['bad service port', { filter: { service: { ...svc80, port: 70000 } } }, 'service.port'],
    ['bad fwmark', { filter: { service: { kind: 'fwmark', family: 'inet', fwmark: 0 } } }, 'service.fwmark'],
    ['bad destination', { filter: { destination: { address: 'x' } } }, 'destination.address'],
    ['limit 0', { limit: 0 }, 'limit'],
    ['limit too big', { limit: 1e6 }, 'limit'],
    ['negative offset', { offset: -1 }, 'offset'],
  ])('rejects %s naming the field', (_n, req, field) => {
    let err: unknown;
    try { new ConnPageCollector(req); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConnFilterError);
    expect((err as ConnFilterError).field).toBe(field);
  });

  it('property: client CIDR filter agrees with lib/net/ip cidrContains (IPv4 and IPv6)', () => {
    const cidr = fc.oneof(
      fc.tuple(fc.nat(255), fc.nat(255), fc.nat(32)).map(([a, b, n]) => `${a}.${b}.0.0/${n}`),
      fc.tuple(fc.nat(0xffff), fc.nat(128)).map(([g, n]) => `${g.toString(16)}::/${n}`),
    );
    fc.assert(fc.property(fc.array(arbConnEntry, { maxLength: 40 }), cidr, (es, c) => {
      const text = es.map(formatConnLine).join('');
      const got = page(text, { filter: { client: c }, limit: 10_000 });
      const want = parseConnTable(text).entries.filter((e: ConnEntry) => cidrContains(c, e.clientAddr));
      expect(got.total).toBe(want.length);
      expect(got.entries).toEqual(want);
    }));
  });

  it('property: service + destination filters agree with a naive filter', () => {
    fc.assert(fc.property(fc.array(arbConnEntry, { minLength: 1, maxLength: 40 }), fc.nat(), (es, pick) => {
      const e = es[pick % es.length]!;
      const filter: ConnFilter = {
        service: e.fwmark !== null
          ? { kind: 'fwmark', family: e.family, fwmark: e.fwmark }
          : { kind: 'addr', family: e.family, protocol: e.protocol, address: e.vaddr!, port: e.vport },
        destination: { address: e.destAddr, port: e.destPort },
      };
      const want = es.filter((x) => x.family === e.family && x.fwmark === e.fwmark && (e.fwmark !== null ||
        (x.protocol === e.protocol && x.vaddr === e.vaddr && x.vport === e.vport)) &&
        x.destAddr === e.destAddr && x.destPort === e.destPort);
      expect(page(es.map(formatConnLine).join(''), { filter, limit: 10_000 }).entries).toEqual(want);
    }));
  });
});
