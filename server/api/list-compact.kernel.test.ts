/**
 * services.listCompact from an agent on the lab kernel's real IPVS table, over real HTTP, decoded:
 * printed as ipvsadm prints, it is what `ipvsadm -Ln --stats --exact` (and the other listings) print
 * for the same table, and it is the table the kernel dumps. The table has every option kind (EVERY_OPTION_KIND
 * of server/ipvs/kernel-test-helpers.ts), and real connection attempts move per-real-server counters: SYNs
 * from this namespace to a NAT service whose real servers sit behind a dummy interface.
 */
import { spawnSync } from 'node:child_process';
import pino from 'pino';
import { createTRPCClient, httpLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCompactTable } from '@/lib/agent/table-compact';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { destinationId, serviceId } from '@/lib/ipvs/ids';
import { formatList, type ListFormat } from '@/lib/ipvs/list-format';
import type { ServiceEntry, Stats } from '@/lib/ipvs/model';
import { EVERY_OPTION_KIND as RULES, ipvsadm, sh } from '../ipvs/kernel-test-helpers';
import type { TableHub } from '../live/hub';
import { kernelAgent, type KernelAgent } from './kernel-agent-testing';
import type { AppRouter } from './router';
import type { AgentServer } from './server';

const log = pino({ level: 'warn' }, pino.destination(2));
const TOKENS = { viewer: 'viewer_' + 'c'.repeat(40), operator: 'operator_' + 'C'.repeat(40) };

// a client namespace routed to the NAT service's VIP (on lo); the real servers' addresses routed into a
// dummy interface, where packets vanish
const SETUP = `
set -e
ip netns add lcc
ip link add l-c type veth peer name c-eth0 netns lcc
ip addr add 10.8.0.1/24 dev l-c; ip link set l-c up
ip link set lo up
ip addr add 10.0.0.1/32 dev lo
sysctl -qw net.ipv4.ip_forward=1
ip -n lcc addr add 10.8.0.2/24 dev c-eth0; ip -n lcc link set c-eth0 up; ip -n lcc link set lo up
ip -n lcc route add 10.0.0.0/24 via 10.8.0.1
ip link add lcd0 type dummy
ip addr add 192.168.1.1/24 dev lcd0
ip link set lcd0 up
ip route add 10.1.1.0/24 dev lcd0
ip route add 200.1.1.0/24 dev lcd0
`;
const TEARDOWN = `
ip netns del lcc 2>/dev/null || true
ip link del lcd0 2>/dev/null || true
ip addr del 10.0.0.1/32 dev lo 2>/dev/null || true
`;
/** Connection attempts from the client namespace, each given up after 1 s. */
const SYNS = "const n = require('net'); for (let i = 0; i < 8; i++) { const s = n.connect(80, '10.0.0.1'); s.on('error', () => {}); setTimeout(() => s.destroy(), 1000); }";

/** The listings compared, as ipvsadm's options and formatList's. */
const LISTINGS: [string[], ListFormat, boolean][] = [
  [['-Ln', '--stats', '--exact'], 'stats', true],
  [['-Ln'], 'default', false],
  [['-Ln', '--thresholds'], 'thresholds', false],
  [['-Ln', '--persistent-conn'], 'persistent-conn', false],
];
const listings = () => LISTINGS.map(([args]) => ipvsadm(...args));

/** A table in id order without the kernel's estimator rates, which move on their own every 2 s. */
const RATES = ['cps', 'inPps', 'outPps', 'inBps', 'outBps'] as const;
function withoutRates(services: readonly ServiceEntry[]) {
  const strip = (s: Stats) => Object.fromEntries(Object.entries(s).filter(([k]) => !(RATES as readonly string[]).includes(k)));
  const byId = <T>(id: (x: T) => string) => (a: T, b: T) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0);
  return [...services].sort(byId((s) => serviceId(s.key))).map((s) => ({
    ...s, stats: strip(s.stats),
    destinations: [...s.destinations].sort(byId(destinationId)).map((d) => ({ ...d, stats: strip(d.stats) })),
  }));
}

let agent: KernelAgent | undefined;
let backend: IpvsBackend;
let hub: TableHub;
let srv: AgentServer;

beforeAll(async () => {
  sh(TEARDOWN);
  sh(SETUP);
  agent = await kernelAgent({
    tokens: TOKENS, log, tickMs: 250,
    table: () => expect(spawnSync('ipvsadm', ['-R'], { input: RULES.join('\n') + '\n', encoding: 'utf8' }).stderr).toBe(''),
  });
  ({ backend, hub, srv } = agent);
});

afterAll(async () => {
  await agent?.close();
  sh(TEARDOWN);
});

describe('services.listCompact on the real kernel', () => {
  it('decoded, prints what ipvsadm -Ln --stats --exact (and -Ln, --thresholds, --persistent-conn) print, and is the kernel\'s dump', async () => {
    // connection attempts to the NAT service: each SYN is scheduled to a real server and counted there (the
    // first batch may go while the client namespace still resolves its gateway: batches until counted)
    const counted = () => ipvsadm('-Ln', '--stats', '--exact').split('\n').filter((l) => l.includes('->') && /\s[1-9]\d*\s/.test(l)).length;
    for (let batch = 0; batch < 10 && counted() < 2; batch++) {
      const syn = spawnSync('ip', ['netns', 'exec', 'lcc', process.execPath, '-e', SYNS], { encoding: 'utf8', timeout: 60_000 });
      expect(syn.status, syn.stderr).toBe(0);
    }
    expect(counted(), 'the SYNs moved no real server\'s counters').toBeGreaterThanOrEqual(2);

    const http = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${srv.url}/trpc`, headers: { authorization: `Bearer ${TOKENS.viewer}` } })] });
    const info = await backend.info();
    // a listing is compared only when ipvsadm printed the same before and after the agent's read (a
    // retransmitted SYN or an expiring entry in between would make both sides right at different times)
    let compared = false;
    for (let attempt = 0; attempt < 10 && !compared; attempt++) {
      const before = listings();
      const dumped = await backend.dump();
      const compact = await http.services.listCompact.query({ fresh: true });
      const after = listings();
      if (before.join('\0') !== after.join('\0')) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      const decoded = decodeCompactTable(JSON.parse(JSON.stringify(compact)));
      LISTINGS.forEach(([args, format, exact], i) => {
        expect(formatList(decoded, info, { format, exact }), `ipvsadm ${args.join(' ')}`).toBe(after[i]);
      });
      expect(withoutRates(decoded.map(({ readAt: _r, ...e }) => e))).toEqual(withoutRates(dumped));
      compared = true;
    }
    expect(compared, 'ipvsadm never printed the same twice around a read').toBe(true);
  });
});
