/** fast-check arbitraries for connection-table tests (imported by tests and the bench only). */
import fc from 'fast-check';
import { formatIPv6 } from '../net/ip';
import { type ConnEntry, KNOWN_STATES } from './parse';

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const v6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => {
  const b = new Uint8Array(16);
  g.forEach((x, i) => { b[i * 2] = x >> 8; b[i * 2 + 1] = x & 255; });
  return b;
});
const port = fc.nat(65535);
const state = fc.constantFrom(...KNOWN_STATES);

/** Entries as the parser produces them: canonical addresses, template iff the rule says so. */
export const arbConnEntry: fc.Arbitrary<ConnEntry> = fc
  .record({
    family: fc.constantFrom('inet', 'inet6' as const),
    destIs6: fc.boolean(),
    protocol: fc.constantFrom('tcp', 'udp', 'sctp', 'ip', 'icmp', 'ip_47' as const),
    c4: v4, v4, d4: v4, c6: v6, v6, d6: v6,
    clientPort: fc.oneof(port, fc.constant(0)),
    vport: port, destPort: port, state, expires: fc.nat(0xffffffff),
    fwmark: fc.integer({ min: 1, max: 0xffffffff }),
    pe: fc.option(fc.record({ name: fc.stringMatching(/^[a-z]{1,16}$/), data: fc.stringMatching(/^[!-~]([ -~]{0,60}[!-~])?$/) })),
  })
  .map((r) => {
    const template = r.clientPort === 0 && (r.protocol === 'ip' || r.state === 'NONE' || r.state === 'ASSURED');
    const fw = template && r.protocol === 'ip';
    const e: ConnEntry = {
      protocol: r.protocol, family: r.family,
      clientAddr: r.family === 'inet' ? r.c4 : formatIPv6(r.c6), clientPort: r.clientPort,
      vaddr: fw ? null : r.family === 'inet' ? r.v4 : formatIPv6(r.v6), fwmark: fw ? r.fwmark : null, vport: r.vport,
      destFamily: r.destIs6 ? 'inet6' : 'inet', destAddr: r.destIs6 ? formatIPv6(r.d6) : r.d4, destPort: r.destPort,
      state: r.state, expires: r.expires, template,
    };
    if (r.pe) { e.pe = r.pe.name; e.peData = r.pe.data; }
    return e;
  });
