/**
 * The sampler against the lab kernel's real table: its reading must print what `ipvsadm -Ln --stats --exact`
 * prints, with counters moved by real packets, and changes made behind its back with ipvsadm show at the next read.
 *
 *   root namespace: 10.77.0.0/16 is local (a route on lo), so SYNs this test sends to a VIP reach IPVS,
 *   which counts them on the totals, the service and the real server it picks (DR to 172.30.x: dropped there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceId } from '@/lib/ipvs/ids';
import { diffTables } from '@/lib/agent/table-diff';
import { formatList } from '@/lib/ipvs/list-format';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { SAMPLER_KNOBS } from '@/lib/agent/sampler-knobs';
import { ipvsadm, ipvsadmRestore, sh, tcp } from '../ipvs/kernel-test-helpers';
import { openIpvs } from '../ipvs/open';
import { kernelSampler, type Reading } from './sampler';

const N = 100;
const vip = (i: number) => `10.77.${i >> 8}.${i & 255}`;
let backend: IpvsBackend;

beforeAll(async () => {
  backend = await openIpvs();
  await backend.flush();
  const lines: string[] = [];
  for (let i = 0; i < N; i++) {
    lines.push(`-A -t ${vip(i)}:80 -s rr`);
    for (let d = 1; d <= 2; d++) lines.push(`-a -t ${vip(i)}:80 -r 172.30.${d}.${i + 1}:80 -g -w 1`);
  }
  // the kinds the file prints differently from netlink: IPv6, fwmark (no family in the file), tunnels, thresholds
  lines.push('-A -t [2001:db8::1]:80 -s wlc', '-a -t [2001:db8::1]:80 -r [2001:db8::a]:8080 -m -w 2 -x 40 -y 10');
  lines.push('-A -f 7 -s rr -p 60', '-a -f 7 -r 172.30.9.1:0 -i -w 1 --tun-type gue --tun-port 6080');
  lines.push('-A -f 9 -6 -s rr', '-a -f 9 -6 -r [2001:db8::b]:0 -g -w 1');
  ipvsadmRestore(`${lines.join('\n')}\n`);
  sh('ip route add local 10.77.0.0/16 dev lo');
  await quietTotals();
}, 150_000);

/**
 * The totals' rates decay for a minute after an earlier file's traffic, and a moving total asks the
 * sampler for a service dump: zero them (which zeroes the estimator too), then see two readings
 * one estimator period apart agree.
 */
async function quietTotals(): Promise<void> {
  ipvsadm('-Z');
  let prev = sh('cat /proc/net/ip_vs_stats');
  for (let t = 0; t < 40; t++) {
    await new Promise((r) => setTimeout(r, 2500));
    const now = sh('cat /proc/net/ip_vs_stats');
    if (now === prev) return;
    prev = now;
  }
  throw new Error(`/proc/net/ip_vs_stats still moving after 100 s:\n${prev}`);
}

afterAll(async () => {
  sh('ip route del local 10.77.0.0/16 dev lo || true');
  await backend?.flush().catch(() => undefined);
  backend?.close();
});

const asIpvsadm = async (r: Reading) => formatList([...r.services], await backend.info(), { format: 'stats', exact: true });

describe('Sampler in the kernel', () => {
  it('idle: after the first read only the rotation reads real servers, covering every service; ipvsadm changes show at the next read', async () => {
    const s = kernelSampler(backend);
    const first = await s.read();
    expect(first.services).toHaveLength(N + 3);
    expect(await asIpvsadm(first)).toBe(ipvsadm('-Ln', '--stats', '--exact'));
    const rotation = SAMPLER_KNOBS.rotation.default;
    const seen = new Set<string>();
    let prev = first.services;
    for (let t = 0; t < Math.ceil((N + 3) / rotation); t++) {
      const r = await s.read();
      // the file and netlink agree on every service's real servers: nothing to read but the rotation
      expect(r.read).toHaveLength(rotation);
      expect(r.unchanged).toBe(true);
      expect(diffTables(prev, r.services)).toEqual([]);
      for (const id of r.read) seen.add(id);
      prev = r.services;
    }
    expect(seen.size).toBe(N + 3);
    expect(s.counts.serviceDumps).toBe(1);

    ipvsadm('-e', '-t', `${vip(57)}:80`, '-r', '172.30.1.58:80', '-g', '-w', '4');
    ipvsadm('-a', '-t', `${vip(90)}:80`, '-r', '172.30.9.91:80', '-m', '-w', '2', '-x', '50');
    const r = await s.read();
    expect(r.read.slice(0, 2).sort()).toEqual([serviceId(tcp(vip(57), 80)), serviceId(tcp(vip(90), 80))].sort());
    const changes = diffTables(prev, r.services);
    expect(changes.map((c) => c.type).sort()).toEqual(['destination_added', 'destination_changed']);
    const added = changes.find((c) => c.type === 'destination_added');
    // the threshold the file cannot show comes from GET_DEST
    expect(added?.type === 'destination_added' && added.destination).toMatchObject({ address: '172.30.9.91', forward: 'nat', weight: 2, upperThreshold: 50 });
    expect(await asIpvsadm(r)).toBe(ipvsadm('-Ln', '--stats', '--exact'));
  });

  it('traffic on more services than the budget: every service\'s and real server\'s counters as ipvsadm -Ln --stats --exact prints them', async () => {
    const s = kernelSampler(backend, 4);
    await s.read();
    const busy = [3, 9, 14, 22, 31, 40, 58, 77, 91, 99];
    // one SYN to each (its retransmission comes after the timeout): counted on the service and the real server picked
    sh(busy.map((i) => `timeout 0.3 bash -c 'echo > /dev/tcp/${vip(i)}/80' 2>/dev/null || true`).join('; '));
    // the kernel sums its per-CPU counters every 2 s
    await new Promise((r) => setTimeout(r, 4500));
    let r = await s.read();
    const moved = r.read.filter((id) => busy.some((i) => id === serviceId(tcp(vip(i), 80))));
    // the budget (and the rotation, which takes the oldest of the rest): the others wait their turn
    expect(moved.length).toBeGreaterThanOrEqual(4);
    expect(moved.length).toBeLessThanOrEqual(4 + SAMPLER_KNOBS.rotation.default);
    for (let t = 0; t < 3; t++) r = await s.read();
    const text = await asIpvsadm(r);
    expect(text).toBe(ipvsadm('-Ln', '--stats', '--exact'));
    for (const i of busy) {
      const e = r.services.find((x) => serviceId(x.key) === serviceId(tcp(vip(i), 80)))!;
      expect(e.stats.conns).toBe(1);
      expect(e.destinations.reduce((n, d) => n + d.stats.conns, 0)).toBe(1);
      expect(e.destinations.reduce((n, d) => n + d.inactiveConns + d.activeConns, 0)).toBe(1);
    }
    expect(formatList([...r.services], await backend.info())).toBe(ipvsadm('-Ln'));
  });
});
