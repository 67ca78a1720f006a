import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONN_HEADER, formatConnLine } from './format';
import { arbConnEntry } from './testing';
import {
  ConnScanner, SCTP_LEGACY_STATES, SCTP_STATES, TCP_STATES, type ConnEntry, MAX_LINE_BYTES,
  parseConnLine, parseConnTable, recordToEntry,
} from './parse';

// Reference §7.3: the example lines as the kernel prints them.
const REF = {
  tcp: 'TCP 0A000002 C350 CFAF2C6E 1F90 AC100002 1F90 ESTABLISHED     897',
  udp: 'UDP 0A000002 A1B2 0A000001 0035 C0A80114 0035 UDP             287',
  fwmarkTemplate: 'IP  0A000000 0000 00000007 0000 C0A8011E 0000 NONE            350',
  tcpTemplate: 'TCP 0A000002 0000 0A000002 01BB 0A000032 01BB ASSURED         599',
  sipTemplate: 'UDP 0A000002 0000 0A000004 13C4 C0A80114 13C4 NONE             30 sip 1234abcd@host',
  ipv6: 'TCP 2001:0db8:0000:0000:0000:0000:0000:0002 C350 2001:0db8:0000:0000:0000:0000:0000:0001 0050 2001:0db8:0000:0000:0000:0000:0000:000a 1F90 SYN_RECV         59',
};

const base = {
  family: 'inet', destFamily: 'inet', fwmark: null, template: false,
} as const;

describe('parseConnLine: reference §7.3 examples', () => {
  it('TCP ESTABLISHED (207.175.44.110:8080 → 172.16.0.2:8080, as in ipvsadm -Lcn)', () => {
    expect(parseConnLine(REF.tcp)).toEqual({
      ...base, protocol: 'tcp', clientAddr: '10.0.0.2', clientPort: 50000, vaddr: '207.175.44.110', vport: 8080,
      destAddr: '172.16.0.2', destPort: 8080, state: 'ESTABLISHED', expires: 897,
    });
  });
  it('UDP', () => {
    expect(parseConnLine(REF.udp)).toEqual({
      ...base, protocol: 'udp', clientAddr: '10.0.0.2', clientPort: 41394, vaddr: '10.0.0.1', vport: 53,
      destAddr: '192.168.1.20', destPort: 53, state: 'UDP', expires: 287,
    });
  });
  it('fwmark persistence template: protocol IP, ToIP is the mark, client is the masked network', () => {
    expect(parseConnLine(REF.fwmarkTemplate)).toEqual({
      ...base, protocol: 'ip', clientAddr: '10.0.0.0', clientPort: 0, vaddr: null, fwmark: 7, vport: 0,
      destAddr: '192.168.1.30', destPort: 0, state: 'NONE', expires: 350, template: true,
    });
  });
  it('address persistence template in state ASSURED', () => {
    expect(parseConnLine(REF.tcpTemplate)).toEqual({
      ...base, protocol: 'tcp', clientAddr: '10.0.0.2', clientPort: 0, vaddr: '10.0.0.2', vport: 443,
      destAddr: '10.0.0.50', destPort: 443, state: 'ASSURED', expires: 599, template: true,
    });
  });
  it('template with persistence-engine name and data', () => {
    expect(parseConnLine(REF.sipTemplate)).toEqual({
      ...base, protocol: 'udp', clientAddr: '10.0.0.2', clientPort: 0, vaddr: '10.0.0.4', vport: 5060,
      destAddr: '192.168.1.20', destPort: 5060, state: 'NONE', expires: 30, template: true,
      pe: 'sip', peData: '1234abcd@host',
    });
  });
  it('IPv6 addresses come out canonical (RFC 5952), as ipvsadm prints them', () => {
    expect(parseConnLine(REF.ipv6)).toEqual({
      ...base, family: 'inet6', destFamily: 'inet6', protocol: 'tcp', clientAddr: '2001:db8::2', clientPort: 50000,
      vaddr: '2001:db8::1', vport: 80, destAddr: '2001:db8::a', destPort: 8080, state: 'SYN_RECV', expires: 59,
    });
  });
});

describe('parseConnLine: other shapes the kernel prints', () => {
  it('SCTP (4-char protocol, no padding)', () => {
    const e = parseConnLine('SCTP 0A000002 8CA0 0A000003 0F1C C0A80132 0F1C ESTABLISHED     900');
    expect(e).toMatchObject({ protocol: 'sctp', clientPort: 36000, vport: 3868, state: 'ESTABLISHED' });
  });
  it('IPv4 service with an IPv6 destination (tunnel to an IPv6 server)', () => {
    const e = parseConnLine('TCP 0A000002 C350 0A000001 0050 2001:0db8:0000:0000:0000:0000:0000:000b 0050 ESTABLISHED     10');
    expect(e).toMatchObject({ family: 'inet', destFamily: 'inet6', destAddr: '2001:db8::b', vaddr: '10.0.0.1' });
  });
  it('IPv6 fwmark template keeps the mark in the first 32 bits of ToIP', () => {
    const e = parseConnLine('IP  2001:0db8:0000:0000:0000:0000:0000:0000 0000 0000:0009:0000:0000:0000:0000:0000:0000 0000 2001:0db8:0000:0000:0000:0000:0000:000b 0000 NONE            100');
    expect(e).toMatchObject({ family: 'inet6', template: true, fwmark: 9, vaddr: null, clientAddr: '2001:db8::' });
  });
  it('lines from older kernels without the PE columns and with trailing spaces or CR', () => {
    expect(parseConnLine(`${REF.tcp}   `)).toMatchObject({ expires: 897 });
    expect(parseConnLine(`${REF.tcp}\r`)).toMatchObject({ expires: 897 });
    expect(parseConnLine(`${REF.tcp}\n`)).toMatchObject({ expires: 897 });
  });
  it('PE data keeps inner spaces (rest of the line)', () => {
    expect(parseConnLine(`${REF.tcp} sip a b  c`)).toMatchObject({ pe: 'sip', peData: 'a b  c' });
  });
  it('unknown protocol numbers (IP_<n>) and ICMP', () => {
    expect(parseConnLine(REF.tcp.replace(/^TCP/, 'IP_47'))).toMatchObject({ protocol: 'ip_47' });
    expect(parseConnLine(REF.tcp.replace(/^TCP/, 'ICMP'))).toMatchObject({ protocol: 'icmp' });
    expect(parseConnLine(REF.ipv6.replace(/^TCP/, 'ICMPv6'))).toMatchObject({ protocol: 'icmpv6' });
  });
  it('ERR! (out-of-range state) is a state like any other', () => {
    expect(parseConnLine(REF.tcp.replace('ESTABLISHED', 'ERR!       '))).toMatchObject({ state: 'ERR!' });
  });
  it('a state name a newer kernel might add is kept, not dropped', () => {
    expect(parseConnLine(REF.tcp.replace('ESTABLISHED', 'SYN_FOO    '))).toMatchObject({ state: 'SYN_FOO' });
  });
  it.each([...new Set([...TCP_STATES, ...SCTP_STATES, ...SCTP_LEGACY_STATES, 'UDP', 'ASSURED', 'ERR!', 'BUG!'])])(
    'state %s', (state) => {
      const line = `TCP 0A000002 C350 0A000001 0050 0A000003 0050 ${state.padEnd(11)}      12`;
      expect(parseConnLine(line)?.state).toBe(state);
    },
  );
  it('FTP "no client port yet" entries in a TCP state are not templates', () => {
    expect(parseConnLine('TCP 0A000002 0000 0A000001 0014 0A000003 0014 SYN_RECV         59')?.template).toBe(false);
  });
});

describe('parseConnLine: rejects what is not a connection line', () => {
  it.each([
    ['the header', CONN_HEADER],
    ['a blank line', ''],
    ['too few fields', 'TCP 0A000002 C350 CFAF2C6E 1F90 AC100002 1F90 ESTABLISHED'],
    ['7-digit address', 'TCP 0A00002 C350 CFAF2C6E 1F90 AC100002 1F90 ESTABLISHED 1'],
    ['5-digit port', 'TCP 0A000002 C3500 CFAF2C6E 1F90 AC100002 1F90 ESTABLISHED 1'],
    ['non-hex address', 'TCP 0A00000G C350 CFAF2C6E 1F90 AC100002 1F90 ESTABLISHED 1'],
    ['non-hex first digit of the virtual address', 'TCP 0A000002 C350 xFAF2C6E 1F90 AC100002 1F90 ESTABLISHED 1'],
    ['non-hex middle digit of the real server', 'TCP 0A000002 C350 CFAF2C6E 1F90 AC10-002 1F90 ESTABLISHED 1'],
    ['mixed client/virtual families', REF.ipv6.replace('2001:0db8:0000:0000:0000:0000:0000:0001', 'CFAF2C6E')],
    ['compressed IPv6 (the kernel never prints it)', 'TCP 2001:db8::2 C350 2001:db8::1 0050 2001:db8::a 1F90 SYN_RECV 59'],
    ['negative expiry', 'TCP 0A000002 C350 CFAF2C6E 1F90 AC100002 1F90 ESTABLISHED -1'],
    ['expiry over u32', 'TCP 0A000002 C350 CFAF2C6E 1F90 AC100002 1F90 ESTABLISHED 4294967296'],
    ['garbage in the state', 'TCP 0A000002 C350 CFAF2C6E 1F90 AC100002 1F90 EST%BLISHED 1'],
    ['unknown protocol word', 'XYZ 0A000002 C350 CFAF2C6E 1F90 AC100002 1F90 ESTABLISHED 1'],
  ])('%s', (_name, line) => {
    expect(parseConnLine(line)).toBeNull();
  });
});

describe('parseConnTable / ConnScanner', () => {
  const table = CONN_HEADER + Object.values(REF).map((l) => `${l}\n`).join('');

  it('parses the whole reference table and skips the header without counting it as malformed', () => {
    const { entries, malformed } = parseConnTable(table);
    expect(entries.map((e) => e.state)).toEqual(['ESTABLISHED', 'UDP', 'NONE', 'ASSURED', 'NONE', 'SYN_RECV']);
    expect(malformed).toBe(0);
  });

  it('counts malformed lines and goes on', () => {
    const { entries, malformed } = parseConnTable(`${table}junk\n\u0000\u00ff\n${REF.udp}\n`);
    expect(entries).toHaveLength(7);
    expect(malformed).toBe(2);
  });

  it('a line without a trailing newline is emitted at end()', () => {
    const { entries } = parseConnTable(REF.tcp);
    expect(entries).toHaveLength(1);
  });

  it('an over-long line is skipped as one malformed line, without buffering it', () => {
    const sc = new ConnScanner(() => {});
    sc.push(`${REF.tcp}\n`);
    for (let i = 0; i < 100; i++) sc.push('x'.repeat(MAX_LINE_BYTES / 10));
    sc.push(`\n${REF.udp}\n`);
    sc.end();
    expect([sc.lines, sc.malformed]).toEqual([2, 1]);
  });

  it('every split of the table into two or three chunks gives the same entries (bytes and strings)', () => {
    const bytes = new TextEncoder().encode(table);
    const whole = parseConnTable(table).entries;
    for (let a = 0; a <= bytes.length; a += 7) {
      for (const b of [a, Math.min(bytes.length, a + 1), Math.min(bytes.length, a + 50)]) {
        const got: ConnEntry[] = [];
        const sc = new ConnScanner((r) => got.push(recordToEntry(r)));
        sc.push(bytes.subarray(0, a));
        sc.push(table.slice(a, b)); // a string chunk in the middle (ASCII, so offsets agree)
        sc.push(bytes.subarray(b));
        sc.end();
        expect(got).toEqual(whole);
        expect(sc.malformed).toBe(0);
      }
    }
  });

  it('one byte at a time', () => {
    const bytes = new TextEncoder().encode(table);
    const got: ConnEntry[] = [];
    const sc = new ConnScanner((r) => got.push(recordToEntry(r)));
    for (let i = 0; i < bytes.length; i++) sc.push(bytes.subarray(i, i + 1));
    sc.end();
    expect(got).toEqual(parseConnTable(table).entries);
  });
});

// ---------------------------------------------------------------------------
// Properties

describe('properties', () => {
  it('format as the kernel prints → parse gives the same entry', () => {
    fc.assert(fc.property(arbConnEntry, (e) => {
      expect(parseConnLine(formatConnLine(e))).toEqual(e);
    }), { numRuns: 2000 });
  });

  it('a table of random entries split at random points parses to the same entries', () => {
    fc.assert(fc.property(fc.array(arbConnEntry, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 10 }), (es, cuts) => {
      const bytes = new TextEncoder().encode(CONN_HEADER + es.map(formatConnLine).join(''));
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const got: ConnEntry[] = [];
      const sc = new ConnScanner((r) => got.push(recordToEntry(r)));
      let prev = 0;
      for (const p of [...points, bytes.length]) { sc.push(bytes.subarray(prev, p)); prev = p; }
      sc.end();
      expect(got).toEqual(es);
      expect(sc.malformed).toBe(0);
    }));
  });

  it('random bytes never throw, and every parsed line is counted once', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(2000), (bytes, cut) => {
      let n = 0;
      const sc = new ConnScanner(() => n++);
      sc.push(bytes.subarray(0, cut));
      sc.push(bytes.subarray(cut));
      sc.end();
      expect(sc.lines).toBe(n);
    }), { numRuns: 1000 });
  });

  it('random strings (any unicode) never throw through parseConnLine', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
      parseConnLine(s);
    }), { numRuns: 2000 });
  });

  it('mutating one character of a valid line never throws', () => {
    fc.assert(fc.property(arbConnEntry, fc.nat(), fc.integer({ min: 0, max: 255 }), (e, at, ch) => {
      const line = formatConnLine(e);
      const i = at % line.length;
      parseConnLine(line.slice(0, i) + String.fromCharCode(ch) + line.slice(i + 1));
    }), { numRuns: 2000 });
  });
});
