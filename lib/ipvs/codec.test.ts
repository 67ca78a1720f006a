import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HOST_LITTLE_ENDIAN, concatBytes, packAttr, packDaemon, packDaemonState, packDestination, packDestinationKey,
  packGenlMessage, packGetFamily, packService, packServiceKey, packStats, packTimeouts, packU16, packU32, packU8,
  packBE16, unpackAttrs, unpackDaemonMessage, unpackDestination, unpackDestinationMessage, unpackFamily, unpackInfo,
  isPlainServiceReply, unpackService, unpackServiceMessage, unpackServiceSpecMessage, unpackStats, unpackTimeouts,
} from './codec';
import * as C from './constants';
import { IpvsError } from './errors';
import type { DestinationSpec, ServiceSpec, Stats, SyncDaemonConfig } from './model';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, ZERO_STATS } from './model';
import { WEIGHT } from './rules';

/** "01 02 0a" -> bytes; whitespace and newlines are ignored so captures can be pasted as laid out in the reference. */
function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
const expectBytes = (actual: Uint8Array, expected: Uint8Array) => expect(toHex(actual)).toBe(toHex(expected));

function expectMalformed(fn: () => unknown, message: RegExp) {
  let caught: unknown;
  try { fn(); } catch (e) { caught = e; }
  expect(caught).toBeInstanceOf(IpvsError);
  expect((caught as IpvsError).code).toBe('malformed_reply');
  expect((caught as IpvsError).message).toMatch(message);
}

const svc = (over: Partial<ServiceSpec> = {}): ServiceSpec => ({
  key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 },
  scheduler: 'wlc', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null, ...over,
});
const dest = (over: Partial<DestinationSpec> = {}): DestinationSpec => ({
  family: 'inet', address: '192.168.1.10', port: 8080, forward: 'nat', weight: 1,
  upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL }, ...over,
});

// The captures in reference §3.9 were taken on a little-endian host.
const golden = HOST_LITTLE_ENDIAN ? describe : describe.skip;
if (!HOST_LITTLE_ENDIAN) console.warn('golden-byte tests skipped: they are little-endian captures and this host is big-endian');

golden('golden bytes captured from ipvsadm 1.31 (reference §3.9)', () => {
  it('NEW_SERVICE: ipvsadm -A -t 10.0.0.1:80 -s wrr -p 300 -M 255.255.255.0', () => {
    const msg = packGenlMessage(C.IPVS_CMD_NEW_SERVICE, [packService(svc({
      scheduler: 'wrr', flags: { ...DEFAULT_FLAGS, persistent: true }, timeout: 300, netmask: '255.255.255.0',
    }))]);
    expectBytes(msg, hex(`
      01 01 00 00
      54 00 01 80
        06 00 01 00 02 00 00 00
        06 00 02 00 06 00 00 00
        14 00 03 00 0a 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00
        06 00 04 00 00 50 00 00
        08 00 06 00 77 72 72 00
        0c 00 07 00 01 00 00 00 ff ff ff ff
        08 00 08 00 2c 01 00 00
        08 00 09 00 ff ff ff 00`));
    expect(16 + msg.length).toBe(104); // the captured nlmsg_len
  });

  it('NEW_SERVICE IPv6: -A -t [2001:db8::1]:443 -s rr -p 60 -M 64 (prefix as host u32)', () => {
    const nest = packService(svc({
      key: { kind: 'addr', family: 'inet6', protocol: 'tcp', address: '2001:db8::1', port: 443 },
      scheduler: 'rr', flags: { ...DEFAULT_FLAGS, persistent: true }, timeout: 60, netmask: '64',
    }));
    expectBytes(nest, hex(`
      54 00 01 80
        06 00 01 00 0a 00 00 00
        06 00 02 00 06 00 00 00
        14 00 03 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01
        06 00 04 00 01 bb 00 00
        07 00 06 00 72 72 00 00
        0c 00 07 00 01 00 00 00 ff ff ff ff
        08 00 08 00 3c 00 00 00
        08 00 09 00 40 00 00 00`));
  });

  it('fwmark service: -A -f 42 -s sh -b sh-port (no PROTOCOL/ADDR/PORT)', () => {
    const nest = packService(svc({
      key: { kind: 'fwmark', family: 'inet', fwmark: 42 }, scheduler: 'sh', flags: { ...DEFAULT_FLAGS, sched2: true },
    }));
    expectBytes(nest, hex(`
      38 00 01 80
        06 00 01 00 02 00 00 00
        08 00 05 00 2a 00 00 00
        07 00 06 00 73 68 00 00
        0c 00 07 00 10 00 00 00 ff ff ff ff
        08 00 08 00 00 00 00 00
        08 00 09 00 ff ff ff ff`));
  });

  it('NEW_DEST: -a -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 5 -x 100 -y 50', () => {
    expectBytes(packDestination(dest({ weight: 5, upperThreshold: 100, lowerThreshold: 50 })), hex(`
      60 00 02 80
        06 00 0b 00 02 00 00 00
        14 00 01 00 c0 a8 01 0a 00 00 00 00 00 00 00 00 00 00 00 00
        06 00 02 00 1f 90 00 00
        08 00 03 00 00 00 00 00
        08 00 04 00 05 00 00 00
        05 00 0d 00 00 00 00 00
        06 00 0e 00 00 00 00 00
        06 00 0f 00 00 00 00 00
        08 00 05 00 64 00 00 00
        08 00 06 00 32 00 00 00`));
  });

  it('service identity nest equals the GET_DEST dump request (nla_len 48)', () => {
    // Director sends this identity-only nest with every destination command; ipvsadm pads it
    // with an empty scheduler and default flags that the kernel ignores.
    expectBytes(packServiceKey(svc().key), hex(`
      30 00 01 80
        06 00 01 00 02 00 00 00
        06 00 02 00 06 00 00 00
        14 00 03 00 0a 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00
        06 00 04 00 00 50 00 00`));
  });

  it('GUE destination: -i --tun-type gue --tun-port 6080 --tun-remcsum', () => {
    const bytes = packDestination(dest({ forward: 'tun', tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' } }));
    const text = toHex(bytes);
    expect(text).toContain('08 00 03 00 02 00 00 00'); // FWD_METHOD tunnel
    expect(text).toContain('05 00 0d 00 01 00 00 00'); // TUN_TYPE gue
    expect(text).toContain('06 00 0e 00 17 c0 00 00'); // TUN_PORT 6080 big-endian
    expect(text).toContain('06 00 0f 00 02 00 00 00'); // TUN_FLAGS remcsum
  });

  it('SET_CONFIG: ipvsadm --set 100 20 30', () => {
    expectBytes(packGenlMessage(C.IPVS_CMD_SET_CONFIG, [packTimeouts({ tcp: 100, tcpFin: 20, udp: 30 })]), hex(`
      0c 01 00 00
      08 00 04 00 64 00 00 00
      08 00 05 00 14 00 00 00
      08 00 06 00 1e 00 00 00`));
  });

  it('ZERO and FLUSH carry no attributes', () => {
    expectBytes(packGenlMessage(C.IPVS_CMD_ZERO), hex('10 01 00 00'));
    expectBytes(packGenlMessage(C.IPVS_CMD_FLUSH), hex('11 01 00 00'));
  });

  it('nlctrl GETFAMILY "IPVS"', () => {
    expectBytes(packGetFamily('IPVS'), hex('03 01 00 00  09 00 02 00 49 50 56 53 00 00 00 00'));
  });
});

/** A service nest the way the kernel emits it (§3.8): no NESTED flag, HASHED set, STATS then STATS64. */
function kernelServiceNest(opts: { pe?: string; stats64?: boolean; pad?: boolean; extra?: Uint8Array[] } = {}): Uint8Array {
  const stats: Stats = { ...ZERO_STATS, conns: 7, inPkts: 42, outPkts: 40, inBytes: 5_000_000_000, outBytes: 123, cps: 1 };
  const parts = [
    packAttr(C.IPVS_SVC_ATTR_AF, packU16(C.AF_INET)),
    packAttr(C.IPVS_SVC_ATTR_PROTOCOL, packU16(C.IPPROTO_UDP)),
    packAttr(C.IPVS_SVC_ATTR_ADDR, hex('c0 a8 96 64 00000000 00000000 00000000')),
    packAttr(C.IPVS_SVC_ATTR_PORT, packBE16(53)),
    packAttr(C.IPVS_SVC_ATTR_SCHED_NAME, hex('6d 68 00')),
    ...(opts.pe ? [packAttr(C.IPVS_SVC_ATTR_PE_NAME, new TextEncoder().encode(`${opts.pe}\0`))] : []),
    packAttr(C.IPVS_SVC_ATTR_FLAGS, [packU32(C.IP_VS_SVC_F_HASHED | C.IP_VS_SVC_F_PERSISTENT | C.IP_VS_SVC_F_SCHED2 | C.IP_VS_SVC_F_ONEPACKET), packU32(0xffffffff)]),
    packAttr(C.IPVS_SVC_ATTR_TIMEOUT, packU32(360)),
    packAttr(C.IPVS_SVC_ATTR_NETMASK, hex('ff ff 00 00')),
    packStats(C.IPVS_SVC_ATTR_STATS, { ...stats, inBytes: 5_000_000_000 % 2 ** 32 }, false),
    ...(opts.stats64 === false ? [] : [opts.pad
      ? packAttr(C.IPVS_SVC_ATTR_STATS64, [packAttr(C.IPVS_STATS_ATTR_PAD, new Uint8Array()), packStats(0, stats, true).subarray(4)])
      : packStats(C.IPVS_SVC_ATTR_STATS64, stats, true)]),
    ...(opts.extra ?? []),
  ];
  return concatBytes(parts);
}

describe('isPlainServiceReply', () => {
  /** A GET_SERVICE reply for TCP 192.168.150.100:80 rr, as the kernel sends it, with `change` applied to its attributes. */
  const reply = (change: Partial<Record<number, Uint8Array | null>> = {}) => {
    const attrs: Record<number, Uint8Array | null> = {
      [C.IPVS_SVC_ATTR_AF]: packU16(C.AF_INET), [C.IPVS_SVC_ATTR_PROTOCOL]: packU16(C.IPPROTO_TCP),
      [C.IPVS_SVC_ATTR_ADDR]: hex('c0 a8 96 64 00000000 00000000 00000000'), [C.IPVS_SVC_ATTR_PORT]: packBE16(80),
      [C.IPVS_SVC_ATTR_SCHED_NAME]: hex('72 72 00'), [C.IPVS_SVC_ATTR_FLAGS]: concatBytes([packU32(C.IP_VS_SVC_F_HASHED), packU32(0xffffffff)]),
      [C.IPVS_SVC_ATTR_TIMEOUT]: packU32(0), [C.IPVS_SVC_ATTR_NETMASK]: hex('ff ff ff ff'), ...change,
    };
    const nest = Object.entries(attrs).filter(([, v]) => v).map(([t, v]) => packAttr(Number(t), v!));
    return packAttr(C.IPVS_CMD_ATTR_SERVICE, [...nest, packStats(C.IPVS_SVC_ATTR_STATS, ZERO_STATS, false)]);
  };
  const plain = (attrs: Uint8Array, ip = 0xc0a89664, port = 80, sched = 'rr') => isPlainServiceReply(attrs, C.IPPROTO_TCP, ip | 0, port, sched);

  it('is true only for the IPv4 service named, with its scheduler and nothing more', () => {
    expect(plain(reply())).toBe(true);
    expect(unpackServiceSpecMessage(reply())).toMatchObject({ scheduler: 'rr', timeout: 0, netmask: '255.255.255.255', pe: null });
    expect(plain(reply(), 0xc0a89665)).toBe(false);
    expect(plain(reply(), undefined, 81)).toBe(false);
    expect(plain(reply(), undefined, undefined, 'r')).toBe(false);
    expect(plain(reply(), undefined, undefined, 'rrr')).toBe(false);
    expect(plain(reply({ [C.IPVS_SVC_ATTR_PROTOCOL]: packU16(C.IPPROTO_UDP) }))).toBe(false);
    expect(plain(reply({ [C.IPVS_SVC_ATTR_AF]: packU16(C.AF_INET6) }))).toBe(false);
    expect(plain(reply({ [C.IPVS_SVC_ATTR_FLAGS]: concatBytes([packU32(C.IP_VS_SVC_F_HASHED | C.IP_VS_SVC_F_SCHED1), packU32(0xffffffff)]) }))).toBe(false);
    expect(plain(reply({ [C.IPVS_SVC_ATTR_TIMEOUT]: packU32(300) }))).toBe(false);
    expect(plain(reply({ [C.IPVS_SVC_ATTR_NETMASK]: hex('ff ff ff 00') }))).toBe(false);
    expect(plain(reply({ [C.IPVS_SVC_ATTR_PE_NAME]: hex('73 69 70 00') }))).toBe(false);
    expect(plain(reply({ [C.IPVS_SVC_ATTR_FWMARK]: packU32(7) }))).toBe(false);
    expect(plain(reply({ [C.IPVS_SVC_ATTR_SCHED_NAME]: null }))).toBe(false);
    expect(plain(packAttr(C.IPVS_CMD_ATTR_SERVICE, kernelServiceNest()))).toBe(false);
    expect(plain(reply().subarray(0, 20))).toBe(false);
  });
});

describe('named cases', () => {
  it('reads a kernel service nest: HASHED stripped, netmask dotted, STATS64 preferred', () => {
    const s = unpackService(kernelServiceNest({ pe: 'sip' }));
    expect(s.key).toEqual({ kind: 'addr', family: 'inet', protocol: 'udp', address: '192.168.150.100', port: 53 });
    expect(s.scheduler).toBe('mh');
    expect(s.pe).toBe('sip');
    expect(s.flags).toEqual({ persistent: true, onePacket: true, sched1: false, sched2: true, sched3: false });
    expect(s.timeout).toBe(360);
    expect(s.netmask).toBe('255.255.0.0');
    expect(s.stats.inBytes).toBe(5_000_000_000);
    expect(s.stats.conns).toBe(7);
  });

  it('falls back to 32-bit STATS when STATS64 is absent (older kernels)', () => {
    const s = unpackService(kernelServiceNest({ stats64: false }));
    expect(s.stats.inBytes).toBe(5_000_000_000 % 2 ** 32);
    expect(s.stats.conns).toBe(7);
    expect(s.pe).toBeNull();
  });

  it('reads u64 counters as Number(BigInt) would, past 2^53 too', () => {
    const big = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53 + 2, 2 ** 63, 2 ** 64 - 2 ** 11];
    for (const v of big) {
      // packStats writes through BigInt(n): the wire holds exactly v, and the decoder must round like Number(BigInt)
      const s = unpackStats(packStats(0, { ...ZERO_STATS, inBytes: v, conns: v }, true).subarray(4), true);
      expect(s.inBytes).toBe(Number(BigInt(v)));
      expect(s.conns).toBe(v);
    }
    // a u64 no double holds exactly: 2^53 + 1 rounds to 2^53, as Number(BigInt) does
    const raw = new Uint8Array(8);
    new DataView(raw.buffer).setBigUint64(0, 2n ** 53n + 1n, true);
    expect(unpackStats(packAttr(C.IPVS_STATS_ATTR_INBYTES, raw), true).inBytes).toBe(Number(2n ** 53n + 1n));
  });

  it('skips IPVS_STATS_ATTR_PAD and unknown attributes', () => {
    const s = unpackService(kernelServiceNest({ pad: true, extra: [packAttr(99, packU32(1)), packAttr(0x3fff, new Uint8Array(3))] }));
    expect(s.stats.inBytes).toBe(5_000_000_000);
  });

  it('accepts nests with and without NLA_F_NESTED (ipvsadm sets it, the kernel does not)', () => {
    const spec = svc();
    const withFlag = packService(spec);
    const withoutFlag = withFlag.slice();
    withoutFlag[3] = 0x00; // high byte of nla_type on little-endian
    expect(unpackServiceMessage(withFlag).key).toEqual(spec.key);
    expect(unpackServiceMessage(withoutFlag).key).toEqual(spec.key);
    expect(unpackAttrs(withFlag, 'x')[0]).toMatchObject({ type: 1, nested: true });
    expect(unpackAttrs(withoutFlag, 'x')[0]).toMatchObject({ type: 1, nested: false });
  });

  it('IPv6 netmask is a host-order prefix length; IPv6 fwmark service', () => {
    const s = unpackServiceMessage(packService(svc({
      key: { kind: 'fwmark', family: 'inet6', fwmark: 9 }, scheduler: 'lc', netmask: '64',
      flags: { ...DEFAULT_FLAGS, persistent: true }, timeout: 100,
    })));
    expect(s.key).toEqual({ kind: 'fwmark', family: 'inet6', fwmark: 9 });
    expect(s.netmask).toBe('64');
  });

  it('destination without ADDR_FAMILY takes the service family (kernels before 3.18)', () => {
    const nest = concatBytes([
      packAttr(C.IPVS_DEST_ATTR_ADDR, hex('20010db8 00000000 00000000 0000000a')),
      packAttr(C.IPVS_DEST_ATTR_PORT, packBE16(8080)),
      packAttr(C.IPVS_DEST_ATTR_FWD_METHOD, packU32(C.IP_VS_CONN_F_DROUTE)),
      packAttr(C.IPVS_DEST_ATTR_WEIGHT, packU32(3)),
      packAttr(C.IPVS_DEST_ATTR_ACTIVE_CONNS, packU32(4)),
      packAttr(C.IPVS_DEST_ATTR_INACT_CONNS, packU32(5)),
      packAttr(C.IPVS_DEST_ATTR_PERSIST_CONNS, packU32(6)),
    ]);
    expect(unpackDestination(nest, 'inet6')).toMatchObject({
      family: 'inet6', address: '2001:db8::a', port: 8080, forward: 'dr', weight: 3,
      activeConns: 4, inactiveConns: 5, persistentConns: 6, tunnel: DEFAULT_TUNNEL, stats: ZERO_STATS,
    });
  });

  it('IPv6 real server in an IPv4 service keeps its own family; GUE/GRE tunnels decode', () => {
    const d = unpackDestinationMessage(packDestination(dest({
      family: 'inet6', address: '2001:db8::b', port: 80, forward: 'tun', tunnel: { type: 'gue', port: 6080, checksum: 'csum' },
    })), 'inet');
    expect(d).toMatchObject({ family: 'inet6', address: '2001:db8::b', tunnel: { type: 'gue', port: 6080, checksum: 'csum' } });
    const g = unpackDestinationMessage(packDestination(dest({ forward: 'tun', tunnel: { type: 'gre', port: 0, checksum: 'csum' } })), 'inet');
    expect(g.tunnel).toEqual({ type: 'gre', port: 0, checksum: 'csum' });
  });

  it('destination identity nest for DEL_DEST', () => {
    expect(toHex(packDestinationKey({ family: 'inet', address: '10.1.1.1', port: 0 }))).toBe(
      toHex(hex('28 00 02 80  06 00 0b 00 02 00 00 00  14 00 01 00 0a 01 01 01 00000000 00000000 00000000  06 00 02 00 00 00 00 00')));
  });

  it('info: version code to text', () => {
    const info = unpackInfo(concatBytes([packAttr(C.IPVS_INFO_ATTR_VERSION, packU32(0x010201)), packAttr(C.IPVS_INFO_ATTR_CONN_TAB_SIZE, packU32(4096))]));
    expect(info).toEqual({ version: '1.2.1', versionCode: 0x010201, connTableSize: 4096 });
  });

  it('timeouts: missing values are sent as 0 (keep)', () => {
    expect(unpackTimeouts(packTimeouts({ udp: 7 }))).toEqual({ tcp: 0, tcpFin: 0, udp: 7 });
  });

  it('sync daemon: IPv4 group as raw bytes, port host order, defaults when absent', () => {
    const cfg: SyncDaemonConfig = { state: 'backup', interface: 'lo', syncId: 9, maxLen: 1400, group: '239.1.2.3', port: 9000, ttl: 3 };
    const bytes = packDaemon(cfg);
    expect(toHex(bytes)).toContain('08 00 05 00 ef 01 02 03');
    expect(unpackDaemonMessage(bytes)).toEqual({ ...cfg });
    expect(unpackDaemonMessage(packDaemon({ state: 'master', interface: 'eth0', syncId: 0 })))
      .toEqual({ state: 'master', interface: 'eth0', syncId: 0, maxLen: 0, group: '224.0.0.81', port: 8848, ttl: 1 });
    expect(unpackDaemonMessage(packDaemon({ state: 'master', interface: 'eth0', syncId: 1, group: 'ff02::81' })).group).toBe('ff02::81');
    expect(toHex(packDaemonState('backup'))).toBe('0c 00 03 80 08 00 01 00 02 00 00 00');
  });

  it('family lookup reply', () => {
    const attrs = concatBytes([
      packAttr(C.CTRL_ATTR_FAMILY_ID, packU16(0x1d)), packAttr(C.CTRL_ATTR_FAMILY_NAME, hex('49 50 56 53 00')),
      packAttr(C.CTRL_ATTR_VERSION, packU32(1)), packAttr(4, packU32(0)), packAttr(C.CTRL_ATTR_MAXATTR, packU32(6)),
    ]);
    expect(unpackFamily(attrs)).toEqual({ id: 0x1d, name: 'IPVS', version: 1, maxAttr: 6 });
  });

  it('rejects bad values on the way out with a clear error', () => {
    expect(() => packService(svc({ scheduler: 'a-very-long-scheduler' }))).toThrow(/longer than 15 characters/);
    expect(() => packService(svc({ netmask: '24' }))).toThrow(/not a dotted IPv4 mask/);
    expect(() => packService(svc({ key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '2001:db8::1', port: 1 } })))
      .toThrow(/virtual address '2001:db8::1' is not an IPv4 address/);
    expect(() => packDaemon({ state: 'master', interface: 'eth0', syncId: 1, group: 'nope' })).toThrow(/not an IP address/);
  });

  describe('malformed input names what is wrong', () => {
    it('attribute longer than the buffer', () => {
      expectMalformed(() => unpackAttrs(hex('08 00 01 00 00 00'), 'service'), /service: attribute type 1 at offset 0 claims 8 bytes, only 6 left/);
    });
    it('attribute length below the header size', () => {
      expectMalformed(() => unpackAttrs(hex('02 00 01 00'), 'service'), /length 2 \(< 4\)/);
    });
    it('stray bytes after the last attribute', () => {
      expectMalformed(() => unpackAttrs(hex('05 00 01 00 01 00 00 00 ff'), 'destination'), /destination: 1 stray bytes/);
    });
    it('tolerates a missing zero pad after the last attribute', () => {
      expect(unpackAttrs(hex('05 00 01 00 01 00'), 'x')).toHaveLength(1);
    });
    it('u16 attribute too short', () => {
      expectMalformed(() => unpackService(packAttr(C.IPVS_SVC_ATTR_AF, packU8(2))), /service attribute AF has 1 bytes, expected at least 2/);
    });
    it('missing identity', () => {
      expectMalformed(() => unpackService(packAttr(C.IPVS_SVC_ATTR_AF, packU16(2))), /service lacks attribute PROTOCOL/);
      expectMalformed(() => unpackServiceMessage(packAttr(C.IPVS_CMD_ATTR_DEST, [])), /service message lacks attribute SERVICE/);
    });
    it('unknown family, protocol, forwarding method, tunnel type', () => {
      expectMalformed(() => unpackService(packAttr(C.IPVS_SVC_ATTR_AF, packU16(7))), /unknown address family 7/);
      expectMalformed(() => unpackService(concatBytes([packAttr(1, packU16(2)), packAttr(2, packU16(1))])), /unsupported protocol 1/);
      const d = (fwd: number, tun = 0) => concatBytes([
        packAttr(C.IPVS_DEST_ATTR_ADDR, new Uint8Array(16)), packAttr(C.IPVS_DEST_ATTR_PORT, packBE16(1)),
        packAttr(C.IPVS_DEST_ATTR_FWD_METHOD, packU32(fwd)), packAttr(C.IPVS_DEST_ATTR_WEIGHT, packU32(1)),
        packAttr(C.IPVS_DEST_ATTR_TUN_TYPE, packU8(tun)),
      ]);
      expectMalformed(() => unpackDestination(d(5), 'inet'), /unknown forwarding method 5/);
      expectMalformed(() => unpackDestination(d(2, 9), 'inet'), /unknown tunnel type 9/);
    });
    it('a service nest read in place ends where its length says, and names offsets from its own start', () => {
      const nest = (body: Uint8Array[]) => packAttr(C.IPVS_CMD_ATTR_SERVICE, body, true);
      // the message's next attribute (type 1 after the nest) is not read as part of the service
      expectMalformed(() => unpackServiceMessage(concatBytes([nest([packAttr(C.IPVS_SVC_ATTR_AF, packU16(2))]), packAttr(2, packU16(1))])),
        /service lacks attribute PROTOCOL/);
      const long = nest([packAttr(C.IPVS_SVC_ATTR_AF, packU16(2)), hex('0c 00 06 00 72 72 00 00')]);
      expectMalformed(() => unpackServiceMessage(long), /service: attribute type 6 at offset 8 claims 12 bytes, only 8 left/);
      expectMalformed(() => unpackServiceSpecMessage(long), /service: attribute type 6 at offset 8 claims 12 bytes, only 8 left/);
    });
    it('IPv6 address shorter than 16 bytes', () => {
      expectMalformed(() => unpackService(concatBytes([
        packAttr(1, packU16(C.AF_INET6)), packAttr(2, packU16(6)), packAttr(3, new Uint8Array(4)), packAttr(4, packBE16(1)),
      ])), /service attribute ADDR has 4 bytes, expected at least 16/);
    });
    it('stats counter of the wrong width', () => {
      expectMalformed(() => unpackStats(packAttr(C.IPVS_STATS_ATTR_CONNS, packU32(1)), true), /stats64 attribute CONNS has 4 bytes, expected at least 8/);
    });
    it('non-ASCII scheduler name', () => {
      expectMalformed(() => unpackService(concatBytes([
        packAttr(1, packU16(2)), packAttr(5, packU32(1)), packAttr(6, hex('ff 00')),
      ])), /SCHED_NAME is not printable ASCII/);
    });
  });
});

// ---------------------------------------------------------------------------
// Properties

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const ipv6 = fc.ipV6().map((a) => {
  // canonical text, as the codec returns it
  const d = unpackService(packService(svc({ key: { kind: 'addr', family: 'inet6', protocol: 'tcp', address: a, port: 1 }, netmask: '128' })).subarray(4));
  return d.key.kind === 'addr' ? d.key.address : a;
});
const family = fc.constantFrom('inet' as const, 'inet6' as const);
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const addrFor = (f: 'inet' | 'inet6') => (f === 'inet' ? ipv4 : ipv6);
const name = fc.stringMatching(/^[a-z0-9_-]{1,15}$/);

const serviceKey = family.chain((f) => fc.oneof(
  fc.record({ kind: fc.constant('addr' as const), family: fc.constant(f), protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const), address: addrFor(f), port: u16 }),
  fc.record({ kind: fc.constant('fwmark' as const), family: fc.constant(f), fwmark: fc.integer({ min: 1, max: 0xffffffff }) }),
));
const serviceSpec: fc.Arbitrary<ServiceSpec> = serviceKey.chain((key) => fc.record({
  key: fc.constant(key),
  scheduler: name,
  flags: fc.record({ persistent: fc.boolean(), onePacket: fc.boolean(), sched1: fc.boolean(), sched2: fc.boolean(), sched3: fc.boolean() }),
  timeout: u32,
  netmask: key.family === 'inet' ? ipv4 : fc.integer({ min: 0, max: 128 }).map(String),
  pe: fc.option(name, { nil: null }),
}));
const tunnel = fc.oneof(
  fc.record({ type: fc.constant('ipip' as const), port: fc.constant(0), checksum: fc.constant('nocsum' as const) }),
  fc.record({ type: fc.constant('gue' as const), port: u16, checksum: fc.constantFrom('nocsum' as const, 'csum' as const, 'remcsum' as const) }),
  fc.record({ type: fc.constant('gre' as const), port: fc.constant(0), checksum: fc.constantFrom('nocsum' as const, 'csum' as const) }),
);
const destSpec: fc.Arbitrary<DestinationSpec> = family.chain((f) => fc.record({
  family: fc.constant(f), address: addrFor(f), port: u16,
  forward: fc.constantFrom('nat' as const, 'dr' as const, 'tun' as const, 'local' as const, 'bypass' as const),
  weight: fc.integer({ min: 0, max: WEIGHT.max }), upperThreshold: u32, lowerThreshold: u32, tunnel,
}));
const counter = fc.maxSafeNat();
const stats: fc.Arbitrary<Stats> = fc.record({
  conns: counter, inPkts: counter, outPkts: counter, inBytes: counter, outBytes: counter,
  cps: counter, inPps: counter, outPps: counter, inBps: counter, outBps: counter,
});
const daemonCfg: fc.Arbitrary<SyncDaemonConfig> = fc.record({
  state: fc.constantFrom('master' as const, 'backup' as const), interface: name, syncId: fc.nat(255),
  maxLen: u16, group: fc.oneof(ipv4, ipv6), port: u16, ttl: fc.nat(255),
});

/** Any exception other than IpvsError('malformed_reply') fails the property. */
function onlyMalformed(fn: () => unknown): void {
  try { fn(); } catch (e) {
    if (!(e instanceof IpvsError) || e.code !== 'malformed_reply') throw e;
  }
}
const decoders: [string, (b: Uint8Array) => unknown][] = [
  ['service', (b) => unpackServiceMessage(b)],
  ['destination', (b) => unpackDestinationMessage(b, 'inet')],
  ['daemon', (b) => unpackDaemonMessage(b)],
  ['info', (b) => unpackInfo(b)],
  ['timeouts', (b) => unpackTimeouts(b)],
  ['stats', (b) => unpackStats(b, false)],
  ['stats64', (b) => unpackStats(b, true)],
  ['family', (b) => unpackFamily(b)],
];

describe('round-trip properties', () => {
  it('service: unpack(pack(spec)) is spec', () => {
    fc.assert(fc.property(serviceSpec, (spec) => {
      const { stats: s, ...back } = unpackServiceMessage(packService(spec));
      expect(back).toEqual(spec);
      expect(s).toEqual(ZERO_STATS);
    }), { numRuns: 500 });
  });

  it('service key alone decodes to the same key', () => {
    fc.assert(fc.property(serviceKey, (key) => {
      // an identity-only nest is what a GET_DEST request carries; decoding it yields defaults for the rest
      expect(unpackServiceMessage(packServiceKey(key)).key).toEqual(key);
    }));
  });

  it('destination: unpack(pack(spec)) is spec', () => {
    fc.assert(fc.property(destSpec, (d) => {
      const { activeConns, inactiveConns, persistentConns, stats: s, ...back } = unpackDestinationMessage(packDestination(d), 'inet');
      expect(back).toEqual(d);
      expect([activeConns, inactiveConns, persistentConns]).toEqual([0, 0, 0]);
      expect(s).toEqual(ZERO_STATS);
    }), { numRuns: 500 });
  });

  it('stats and stats64 survive a round trip (32-bit fields truncated only in STATS)', () => {
    fc.assert(fc.property(stats, (s) => {
      expect(unpackStats(packStats(0, s, true).subarray(4), true)).toEqual(s);
      const narrow = unpackStats(packStats(0, s, false).subarray(4), false);
      expect(narrow.inBytes).toBe(s.inBytes);
      expect(narrow.conns).toBe(s.conns % 2 ** 32);
    }));
  });

  it('sync daemon and timeouts', () => {
    fc.assert(fc.property(daemonCfg, (cfg) => { expect(unpackDaemonMessage(packDaemon(cfg))).toEqual(cfg); }));
    fc.assert(fc.property(u32, u32, u32, (tcp, tcpFin, udp) => { expect(unpackTimeouts(packTimeouts({ tcp, tcpFin, udp }))).toEqual({ tcp, tcpFin, udp }); }));
  });

  it('random bytes never throw anything but IpvsError(malformed_reply)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      for (const [, decode] of decoders) onlyMalformed(() => decode(b));
    }), { numRuns: 2000 });
  });

  it('truncated valid encodings never throw anything but IpvsError(malformed_reply)', () => {
    fc.assert(fc.property(serviceSpec, destSpec, fc.nat(), (spec, d, cut) => {
      for (const bytes of [packService(spec), packDestination(d)]) {
        const truncated = bytes.subarray(0, cut % (bytes.length + 1));
        for (const [, decode] of decoders) onlyMalformed(() => decode(truncated));
      }
    }), { numRuns: 500 });
  });

  it('mutated valid encodings never throw anything but IpvsError(malformed_reply)', () => {
    const mutation = fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 6 });
    fc.assert(fc.property(serviceSpec, destSpec, mutation, (spec, d, muts) => {
      const msg = concatBytes([packService(spec), packDestination(d), packDaemon({ state: 'master', interface: 'lo', syncId: 1 })]);
      const m = msg.slice();
      for (const [pos, val] of muts) m[pos % m.length] = val;
      for (const [, decode] of decoders) onlyMalformed(() => decode(m));
    }), { numRuns: 1000 });
  });
});
