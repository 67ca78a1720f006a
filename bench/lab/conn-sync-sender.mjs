#!/usr/bin/env node
/**
 * Fills the lab kernel's IPVS connection table through its own backup sync
 * daemon: run in a network namespace whose link reaches the backup's
 * interface, it multicasts IPVS sync messages (version 1, the format of the
 * kernel's net/netfilter/ipvs/ip_vs_sync.c) describing COUNT TCP connections
 * of DR services, and the backup creates one table entry per connection.
 * Plain .mjs (no tsx) because every process start inside the lab is costly.
 *
 *   node conn-sync-sender.mjs --count N --services S --dests D --iface-addr A [--start I] [--pace P]
 *
 * Entry i belongs to service i % S (VIP 10.200.X.Y:80), real server
 * (i / S) % D (172.30.D.X.Y... see addresses below), client address/port
 * unique per i. Re-sending an entry updates it in place, so a second pass
 * over the same range is harmless (used to fill gaps from dropped datagrams).
 */
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    count: { type: 'string' }, services: { type: 'string', default: '100' }, dests: { type: 'string', default: '4' },
    'iface-addr': { type: 'string' }, start: { type: 'string', default: '0' }, pace: { type: 'string', default: '64' },
    timeout: { type: 'string', default: '7200' },
  },
});
const COUNT = Number(values.count), S = Number(values.services), D = Number(values.dests);
const START = Number(values.start), PACE = Number(values.pace), TIMEOUT = Number(values.timeout);

// IPVS TCP states (include/net/ip_vs.h) and connection flags
const ESTABLISHED = 1, SYN_RECV = 3, FIN_WAIT = 4, TIME_WAIT = 5, CLOSE_WAIT = 7;
const MIX = [...Array(40).fill(ESTABLISHED), ...Array(25).fill(TIME_WAIT), ...Array(15).fill(FIN_WAIT),
  ...Array(12).fill(SYN_RECV), ...Array(8).fill(CLOSE_WAIT)];
const F_DROUTE = 0x0003, F_INACTIVE = 0x0010;
const CONN_SIZE = 36, HEADER = 8, PER_MESSAGE = 255; // nr_conns is one byte

export const vipOf = (s) => (((10 << 24) | (200 << 16) | ((s >> 8) << 8) | (s & 255)) >>> 0) + 0; // 10.200.s/256.s%256
export const destOf = (s, d) => (((172 << 24) | (30 << 16) | (d << 8) | (s + 1)) >>> 0);

function message(from, n) {
  const buf = Buffer.alloc(HEADER + n * CONN_SIZE);
  buf.writeUInt8(0, 0); // reserved: 0 marks version 1
  buf.writeUInt8(0, 1); // syncid 0: a backup with syncid 0 takes every id
  buf.writeUInt16BE(buf.length, 2);
  buf.writeUInt8(n, 4);
  buf.writeInt8(1, 5); // SYNC_PROTO_VER
  buf.writeUInt16BE(0, 6);
  for (let k = 0; k < n; k++) {
    const i = from + k, o = HEADER + k * CONN_SIZE;
    const s = i % S, d = Math.floor(i / S) % D;
    const state = MIX[(i * 2654435761 >>> 0) % MIX.length];
    buf.writeUInt8(0, o); // type 0: IPv4
    buf.writeUInt8(6, o + 1); // TCP
    buf.writeUInt16BE(CONN_SIZE, o + 2); // version 0, size
    buf.writeUInt32BE(F_DROUTE | (state === ESTABLISHED ? 0 : F_INACTIVE), o + 4);
    buf.writeUInt16BE(state, o + 8);
    buf.writeUInt16BE(10000 + (i % 50000), o + 10); // cport
    buf.writeUInt16BE(80, o + 12); // vport
    buf.writeUInt16BE(80, o + 14); // dport
    buf.writeUInt32BE(0, o + 16); // fwmark
    buf.writeUInt32BE(TIMEOUT, o + 20);
    buf.writeUInt32BE(((100 << 24) | (64 << 16)) + Math.floor(i / 50000), o + 24); // caddr 100.64.x.y
    buf.writeUInt32BE(vipOf(s), o + 28);
    buf.writeUInt32BE(destOf(s, d), o + 32);
  }
  return buf;
}

const sock = dgram.createSocket('udp4');
await new Promise((r) => sock.bind(0, values['iface-addr'], r));
sock.setMulticastInterface(values['iface-addr']);
sock.setMulticastTTL(1);
const send = (b) => new Promise((res, rej) => sock.send(b, 8848, '224.0.0.81', (e) => (e ? rej(e) : res())));
let sent = 0, pending = [];
for (let i = START; i < START + COUNT; i += PER_MESSAGE) {
  pending.push(send(message(i, Math.min(PER_MESSAGE, START + COUNT - i))));
  sent++;
  // let the backup thread drain its socket: a burst larger than its receive buffer is dropped
  if (pending.length >= PACE) { await Promise.all(pending); pending = []; await new Promise((r) => setTimeout(r, 5)); }
}
await Promise.all(pending);
sock.close();
process.stdout.write(`sent ${sent} sync messages for ${COUNT} connections\n`);
