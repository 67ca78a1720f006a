/**
 * keepalived 2.2.7 under the agent's manager, with a VRRP peer in a network
 * namespace (one lab kernel): start fenced, unfence -> MASTER with the VIP in
 * the kernel, fence -> FAULT -> VIP gone and the peer takes over, SIGHUP
 * reload keeps the role, silent death of a master, graceful stop, leftovers.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatVrrpConfig, vrrpPaths, type NotifyEvent } from '@/lib/ha/vrrp-conf';
import { haConfigSchema, type HaConfig } from '@/lib/schemas/ha';
import { KernelAddresses } from './addresses';
import { KeepalivedManager, writeTrackFile } from './keepalived';
import { sleep, until } from './kernel-test-helpers';

const sh = (cmd: string) => execFileSync('bash', ['-c', cmd], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
const VIP = '10.77.0.100';
const ROOT = '/tmp/ha-ka-test';
const log = pino({ level: 'silent' });

function cfg(director: string, ifname: string, src: string, peer: string, priority: number): HaConfig {
  return haConfigSchema.parse({
    director, zookeeper: '127.0.0.1:2181', runDir: `${ROOT}/${director}`,
    groups: [{ name: 'lan', vips: [`${VIP}/32`], interface: ifname, unicastSourceIp: src, unicastPeers: [peer], virtualRouterId: 51, priority, advertIntervalMs: 500 }],
  });
}
const meCfg = cfg('me', 'hat0', '10.77.0.1', '10.77.0.2', 150);
const peerCfg = cfg('peer', 'hat1', '10.77.0.2', '10.77.0.1', 100);

interface Side { ka: KeepalivedManager; events: { at: number; e: NotifyEvent }[]; exits: number; dir: string }
function side(c: HaConfig, binary: string): Side {
  const s: Side = { ka: null as unknown as KeepalivedManager, events: [], exits: 0, dir: c.runDir! };
  s.ka = new KeepalivedManager({
    binary, runDir: c.runDir!, log,
    events: { onNotify: (e) => s.events.push({ at: Date.now(), e }), onExit: () => { s.exits++; } },
  });
  return s;
}
const stateOf = (s: Side) => {
  const last = s.events.filter((x) => x.e.kind === 'instance').at(-1);
  return last && last.e.kind === 'instance' ? last.e.state : 'UNKNOWN';
};
const reached = (s: Side, state: string, after = 0) => s.events.find((x) => x.at >= after && x.e.kind === 'instance' && x.e.state === state);

const addrs = new KernelAddresses();
const vipHere = async () => (await addrs.present('hat0', [VIP])).length > 0;
const vipOnPeer = () => sh('ip -n hapeer -4 -o addr show dev hat1').includes(`${VIP}/32`);

let me: Side;
let peer: Side;
process.env.HA_NETNS = 'hapeer';

async function prepare(s: Side, c: HaConfig, fence: number): Promise<void> {
  await s.ka.writeConfig(formatVrrpConfig(c, s.dir));
  await writeTrackFile(vrrpPaths(s.dir).fenceFile('lan'), fence);
  await writeTrackFile(vrrpPaths(s.dir).leaseFile('lan'), 0);
}

beforeAll(() => {
  sh(`rm -rf ${ROOT}; mkdir -p ${ROOT}
ip netns add hapeer
ip link add hat0 type veth peer name hat1 netns hapeer
ip addr add 10.77.0.1/24 dev hat0; ip link set hat0 up
ip -n hapeer addr add 10.77.0.2/24 dev hat1; ip -n hapeer link set hat1 up; ip -n hapeer link set lo up`);
  me = side(meCfg, '/usr/sbin/keepalived');
  peer = side(peerCfg, path.join(import.meta.dirname, 'testdata/keepalived-in-netns.sh'));
});
afterAll(async () => {
  await me?.ka.stop().catch(() => {});
  await peer?.ka.stop().catch(() => {});
  me?.ka.close();
  peer?.ka.close();
  addrs.close();
  sh('ip netns del hapeer 2>/dev/null; ip link del hat0 2>/dev/null; true');
});

describe('keepalived manager', () => {
  it('keepalived -t accepts the formatted configuration', async () => {
    await prepare(me, meCfg, 1);
    expect(me.ka.check()).toBeNull();
  });

  it('starts fenced (FAULT, no VIP); lifting the fence makes it MASTER with the VIP in the kernel', async () => {
    await me.ka.start();
    expect(me.ka.running).toBe(true);
    await until(() => stateOf(me) === 'FAULT', 10_000, 'FAULT at start');
    await sleep(1500);
    expect(await vipHere()).toBe(false);
    const t0 = Date.now();
    await writeTrackFile(vrrpPaths(me.dir).fenceFile('lan'), 0);
    await until(() => stateOf(me) === 'MASTER', 10_000, 'MASTER');
    await until(vipHere, 2000, 'VIP on hat0');
    console.log(`unfenced alone -> MASTER with VIP after ${Date.now() - t0} ms (BACKUP waits 3 adverts + skew)`);
    const ev = reached(me, 'MASTER')!.e;
    expect(ev).toEqual({ kind: 'instance', instance: 'VI_lan', group: 'lan', state: 'MASTER', priority: 150 });
  });

  it('a lower-priority peer joins as BACKUP and leaves the VIP alone', async () => {
    await prepare(peer, peerCfg, 0);
    await peer.ka.start();
    await until(() => stateOf(peer) === 'BACKUP', 15_000, 'peer BACKUP');
    await sleep(2000);
    expect(stateOf(peer)).toBe('BACKUP');
    expect(await vipHere()).toBe(true);
    expect(vipOnPeer()).toBe(false);
  });

  it('SIGHUP reload keeps the pid, the role and the VIP (track files are not re-initialised)', async () => {
    const pid = me.ka.pid;
    const n = me.events.length;
    await me.ka.writeConfig(formatVrrpConfig({ ...meCfg, groups: [{ ...meCfg.groups[0]!, priority: 140 }] }, me.dir));
    me.ka.reload();
    await sleep(3000);
    expect(me.ka.pid).toBe(pid);
    expect(me.ka.running).toBe(true);
    expect(await vipHere()).toBe(true);
    expect(me.events.slice(n).map((x) => x.e.kind === 'instance' && x.e.state).filter((s) => s !== 'MASTER')).toEqual([]);
  });

  it('fence (weight-0 track file = 1) -> FAULT, the VIP leaves at once and the peer takes over (priority-0 advert)', async () => {
    const t0 = Date.now();
    await writeTrackFile(vrrpPaths(me.dir).fenceFile('lan'), 1);
    const gone = await until(async () => !(await vipHere()), 5000, 'VIP gone', 10);
    await until(() => !!reached(peer, 'MASTER', t0), 5000, 'peer MASTER');
    const takeover = reached(peer, 'MASTER', t0)!.at - t0;
    console.log(`fence: VIP gone after ${gone} ms; peer MASTER after ${takeover} ms`);
    expect(stateOf(me)).toBe('FAULT');
    expect(reached(me, 'FAULT', t0)!.e).toMatchObject({ state: 'FAULT' });
    expect(vipOnPeer()).toBe(true);
    // with the priority-0 advert the backup does not wait 3 adverts (1.5 s)
    expect(takeover).toBeLessThan(1500);
  });

  it('unfenced with nopreempt: stays BACKUP although its priority is higher', async () => {
    await writeTrackFile(vrrpPaths(me.dir).fenceFile('lan'), 0);
    await until(() => stateOf(me) === 'BACKUP', 5000, 'BACKUP');
    await sleep(2500);
    expect(stateOf(me)).toBe('BACKUP');
    expect(await vipHere()).toBe(false);
  });

  it('a silent master death (SIGKILL, no priority-0 advert) is detected in ~3 adverts; the killed one leaves its VIP behind', async () => {
    // SIGKILL both keepalived processes of the peer: no priority-0 advert, its VIP stays behind in its namespace
    // the VRRP child first: killed after its parent it would get the parent-death SIGTERM and send a priority-0 advert
    // (the starting point asserted, so a failure below is about the kill and not the previous test's state)
    await until(() => stateOf(peer) === 'MASTER' && vipOnPeer(), 10_000, 'peer MASTER with the VIP');
    const vrrp = Number(sh(`cat ${peer.dir}/vrrp.pid`)), parent = Number(sh(`cat ${peer.dir}/keepalived.pid`));
    const t0 = Date.now();
    try {
      // the parent is stopped first: running between the two kills, it reaped the dead VRRP child and started a
      // new one, whose start-up removed the VIP (seen in a CI run: "Entering BACKUP STATE (init)" after the kill)
      process.kill(parent, 'SIGSTOP');
      process.kill(vrrp, 'SIGKILL');
      process.kill(parent, 'SIGKILL');
      await until(() => !!reached(me, 'MASTER', t0), 10_000, 'me MASTER');
      const took = reached(me, 'MASTER', t0)!.at - t0;
      console.log(`silent master death: backup MASTER after ${took} ms (advert 500 ms)`);
      expect(took).toBeGreaterThan(1000);
      expect(took).toBeLessThan(3000);
      expect(await vipHere()).toBe(true);
      expect(vipOnPeer()).toBe(true); // split: the killed keepalived left its VIP
    } finally {
      // a VIP left in the peer's namespace would confuse the tests after this one
      sh(`ip -n hapeer addr del ${VIP}/32 dev hat1 2>/dev/null || true`);
    }
  });

  it('a new manager on the same run dir stops a keepalived left by an earlier run', async () => {
    const pid = me.ka.pid!;
    const again = side(meCfg, '/usr/sbin/keepalived');
    const killed = await again.ka.killLeftover();
    expect(killed).toContain(pid);
    await until(() => me.exits > 0, 5000, 'old keepalived exit seen');
    expect(() => process.kill(pid, 0)).toThrow();
    // SIGTERM to a master: it drops its VIP itself
    expect(await vipHere()).toBe(false);
    again.ka.close();
  });

  it('start-up fencing: a VIP left on the interface is removed through rtnetlink', async () => {
    sh(`ip addr add ${VIP}/32 dev hat0`);
    expect(await vipHere()).toBe(true);
    expect(await addrs.remove('hat0', `${VIP}/32`)).toBe(true);
    expect(await vipHere()).toBe(false);
    expect(await addrs.remove('hat0', `${VIP}/32`)).toBe(false);
  });

  it('graceful stop of a master: the peer takes over at once', async () => {
    await prepare(peer, peerCfg, 0);
    await peer.ka.start();
    await until(() => (peer.events.at(-1)?.e as { state?: string } | undefined)?.state === 'MASTER', 10_000, 'peer MASTER');
    await prepare(me, meCfg, 0);
    await me.ka.start();
    await until(() => stateOf(me) === 'BACKUP', 10_000, 'me BACKUP');
    const t0 = Date.now();
    await peer.ka.stop();
    await until(() => !!reached(me, 'MASTER', t0), 5000, 'me MASTER');
    const took = reached(me, 'MASTER', t0)!.at - t0;
    console.log(`graceful stop of the master: backup MASTER after ${took} ms`);
    // a priority-0 advert makes it ~skew time (seen 335 ms); a loaded lab kernel has also shown 1752 ms
    expect(took).toBeLessThan(2500);
    expect(vipOnPeer()).toBe(false);
  });
});
