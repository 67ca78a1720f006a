/**
 * Real HTTP traffic through one NAT and one DR service, as in the kernel
 * selftest ipvs.sh, with Director (not ipvsadm) writing the rules. The
 * director is the lab kernel's root namespace (where this test and IPVS run):
 *
 *   dtc (client)                       root (director)                 dtn (NAT real server)
 *    br0 10.0.0.2/24 ── c-eth0 ──────── d-c 10.0.0.1/24
 *     │                                 d-n 172.16.0.1/24 ───────────── n-eth0 172.16.0.2/24, default via .1
 *     │                                 lo: 207.175.44.110, .111 (VIPs)
 *     │                                 d-d 172.16.1.1/24 ───────────── d-eth0 172.16.1.2/24  dtd (DR real server)
 *     └──────────── c-eth1 ───────────────────────────────────────────── d-eth1 10.0.0.3/24, lo: 207.175.44.111
 *
 * NAT: 207.175.44.110:8080 -> 172.16.0.2:8080 (-m); the reply returns through the director.
 * DR:  207.175.44.111:8080 -> 172.16.1.2:8080 (-g); the reply goes straight to the client over br0.
 */
import { isDeepStrictEqual } from 'node:util';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetlinkIpvs } from './netlink-client';
import { openIpvs } from './open';
import { dst, ipvsadm, sh, svc, tcp } from './kernel-test-helpers';

const NAT = tcp('207.175.44.110', 8080);
const DR = tcp('207.175.44.111', 8080);
const REQUESTS = 5;

const SETUP = `
set -e
ip netns add dtc; ip netns add dtn; ip netns add dtd
ip link add d-c type veth peer name c-eth0 netns dtc
ip link add d-n type veth peer name n-eth0 netns dtn
ip link add d-d type veth peer name d-eth0 netns dtd
ip -n dtc link add c-eth1 type veth peer name d-eth1 netns dtd
ip addr add 10.0.0.1/24 dev d-c; ip link set d-c up
ip addr add 172.16.0.1/24 dev d-n; ip link set d-n up
ip addr add 172.16.1.1/24 dev d-d; ip link set d-d up
ip link set lo up
ip addr add 207.175.44.110/32 dev lo; ip addr add 207.175.44.111/32 dev lo
sysctl -qw net.ipv4.ip_forward=1
ip -n dtc link add br0 type bridge
ip -n dtc link set c-eth0 master br0; ip -n dtc link set c-eth1 master br0
ip -n dtc addr add 10.0.0.2/24 dev br0
for l in lo br0 c-eth0 c-eth1; do ip -n dtc link set $l up; done
ip -n dtc route add 207.175.44.0/24 via 10.0.0.1
ip -n dtn addr add 172.16.0.2/24 dev n-eth0
for l in lo n-eth0; do ip -n dtn link set $l up; done
ip -n dtn route add default via 172.16.0.1
ip -n dtd addr add 172.16.1.2/24 dev d-eth0; ip -n dtd addr add 10.0.0.3/24 dev d-eth1
for l in lo d-eth0 d-eth1; do ip -n dtd link set $l up; done
ip -n dtd addr add 207.175.44.111/32 dev lo
ip netns exec dtd sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \\
  net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.d-eth0.rp_filter=0 net.ipv4.conf.d-eth1.rp_filter=0
`;
const TEARDOWN = `
for n in dtc dtn dtd; do ip netns del $n 2>/dev/null || true; done
ip addr del 207.175.44.110/32 dev lo 2>/dev/null || true
ip addr del 207.175.44.111/32 dev lo 2>/dev/null || true
`;

const SERVER = `
const name = process.argv[1];
require('http').createServer((req, res) => res.end('from ' + name + '\\n'))
  .listen(8080, '0.0.0.0', () => console.log('ready'));
`;

function startServer(ns: string): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER, ns], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(child); });
    child.once('exit', (code) => reject(new Error(`HTTP server in ${ns} exited (${code}) before listening`)));
  });
}

function get(vip: string): string {
  return sh(`ip netns exec dtc curl -sS --max-time 5 http://${vip}:8080/`);
}

/** Per-destination counters from `ipvsadm -Ln --stats --exact`: "addr:port" -> [conns, inpkts, outpkts, inbytes, outbytes]. */
function ipvsadmDestStats(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of ipvsadm('-Ln', '--stats', '--exact').split('\n')) {
    const m = /^ {2}-> (\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) out.set(m[1]!, m.slice(2).map(Number));
  }
  return out;
}

async function directorDestStats(ipvs: NetlinkIpvs): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const s of await ipvs.dump()) {
    for (const d of s.destinations) {
      const { conns, inPkts, outPkts, inBytes, outBytes } = d.stats;
      out.set(`${d.address}:${d.port}`, [conns, inPkts, outPkts, inBytes, outBytes]);
    }
  }
  return out;
}

describe('real traffic through NAT and DR services written by Director', () => {
  let ipvs: NetlinkIpvs;
  const servers: ChildProcess[] = [];

  beforeAll(async () => {
    sh(TEARDOWN);
    sh(SETUP);
    ipvs = (await openIpvs()) as NetlinkIpvs;
    await ipvs.flush();
    await ipvs.addService(svc(NAT, { scheduler: 'rr' }));
    await ipvs.addDestination(NAT, dst('172.16.0.2', 8080, { forward: 'nat' }));
    await ipvs.addService(svc(DR, { scheduler: 'rr' }));
    await ipvs.addDestination(DR, dst('172.16.1.2', 8080, { forward: 'dr' }));
    servers.push(...await Promise.all([startServer('dtn'), startServer('dtd')]));
  });

  afterAll(async () => {
    for (const s of servers) s.kill();
    await ipvs?.flush().catch(() => {});
    ipvs?.close();
    sh(TEARDOWN);
  });

  it('HTTP requests succeed through both, and Director reads the same counters as ipvsadm', async () => {
    expect(ipvsadm('-Sn').split('\n').filter(Boolean).sort()).toEqual([
      '-A -t 207.175.44.110:8080 -s rr', '-A -t 207.175.44.111:8080 -s rr',
      '-a -t 207.175.44.110:8080 -r 172.16.0.2:8080 -m -w 1', '-a -t 207.175.44.111:8080 -r 172.16.1.2:8080 -g -w 1',
    ]);
    for (let i = 0; i < REQUESTS; i++) {
      expect(get('207.175.44.110')).toBe('from dtn\n');
      expect(get('207.175.44.111')).toBe('from dtd\n');
    }
    await new Promise((r) => setTimeout(r, 500)); // let the last FIN/ACKs land before both reads
    // the kernel folds its per-CPU counters into what dumps show every 2 s: wait (up to 6 s) until the last
    // connection is counted and both readers see the same settled values
    let mine = await directorDestStats(ipvs);
    let theirs = ipvsadmDestStats();
    for (const until = Date.now() + 6000; Date.now() < until;) {
      if (mine.get('172.16.0.2:8080')?.[0] === REQUESTS && isDeepStrictEqual(mine, theirs)) break;
      await new Promise((r) => setTimeout(r, 500));
      mine = await directorDestStats(ipvs);
      theirs = ipvsadmDestStats();
    }
    expect(mine).toEqual(theirs);
    const nat = mine.get('172.16.0.2:8080')!, dr = mine.get('172.16.1.2:8080')!;
    console.log(`connection table after the requests:\n${ipvsadm('-Lnc')}`);
    expect(nat[0]).toBe(REQUESTS);
    // DR: observed 4 of 5 once in the lab; the kernel's own count is what matters (both readers agree above)
    expect(dr[0]).toBeGreaterThanOrEqual(1);
    expect(dr[0]).toBeLessThanOrEqual(REQUESTS);
    expect(nat[2]).toBeGreaterThan(0); // NAT sees the replies
    expect(dr[2]).toBe(0); // DR replies bypass the director
    const conns = await ipvs.listDestinations(NAT);
    expect(conns[0]!.activeConns + conns[0]!.inactiveConns).toBeGreaterThan(0);
  });

  it('zero one service, then all, as ipvsadm -Ln --stats --exact shows', async () => {
    // counts the kernel has not folded in yet would land on the zeroed counters (a fresh-clone run saw one
    // DR connection's 1 conn, 6 packets, 403 bytes appear after ZERO): wait until an estimator period
    // (2 s) passes without change
    let before = ipvsadmDestStats();
    for (const until = Date.now() + 10_000; Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 2200));
      const now = ipvsadmDestStats();
      if (isDeepStrictEqual(now, before)) break;
      before = now;
    }
    await ipvs.zero(NAT);
    let theirs = ipvsadmDestStats();
    expect(theirs.get('172.16.0.2:8080')).toEqual([0, 0, 0, 0, 0]);
    expect(theirs.get('172.16.1.2:8080')![0]).toBeGreaterThan(0);
    expect((await ipvs.getService(NAT)).stats.conns).toBe(0);
    await ipvs.zero();
    theirs = ipvsadmDestStats();
    expect([...theirs.values()]).toEqual([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]);
    expect((await directorDestStats(ipvs))).toEqual(theirs);
  });
});
