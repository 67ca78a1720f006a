import { describe, expect, it } from 'vitest';
import type { DestinationState, ServiceEntry } from '../ipvs/model';
import { SkewDetector } from './hash-skew';

const stats = (conns: number) => ({ conns, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 });
const dest = (address: string, weight: number, conns: number): DestinationState => ({
  family: 'inet', address, port: 80, forward: 'dr', weight, upperThreshold: 0, lowerThreshold: 0,
  tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' }, activeConns: 0, inactiveConns: 0, persistentConns: 0, stats: stats(conns),
});
const svc = (scheduler: string, dests: DestinationState[], flags: Partial<ServiceEntry['flags']> = {}): ServiceEntry => ({
  key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 }, scheduler,
  flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false, ...flags },
  timeout: 0, netmask: '255.255.255.255', pe: null, stats: stats(0), destinations: dests,
});
const opts = { windowMs: 10_000, holdMs: 20_000, threshold: 0.2, minConns: 100 };

/** Feeds one look every second for `seconds`, the counters growing by `rates` per second. */
function feed(d: SkewDetector, scheduler: string, weights: number[], rates: number[], seconds: number, from = 0, flags = {}): number {
  for (let t = 0; t <= seconds; t++) {
    const at = (from + t) * 1000;
    d.observe(at, [svc(scheduler, weights.map((w, i) => dest(`192.168.150.${12 + i}`, w, (from + t) * rates[i]!)), flags)]);
  }
  return (from + seconds) * 1000;
}

describe('hash skew', () => {
  it('raises an alarm when one sh server takes everything for the hold time, naming sh-port and the command', () => {
    const d = new SkewDetector(opts);
    const now = feed(d, 'sh', [1, 1], [50, 0], 30);
    const [a, ...rest] = d.alarms(now);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ scheduler: 'sh', label: 'TCP 10.0.0.1:80', flag: 'sh-port', fix: 'ipvsadm -E -t 10.0.0.1:80 -s sh -b sh-port', since: 9000 });
    expect(a!.servers.map((s) => [s.label, s.share, s.expected])).toEqual([['192.168.150.12:80', 1, 0.5], ['192.168.150.13:80', 0, 0.5]]);
    expect(a!.cause).toMatch(/client address only/);
  });

  it('says nothing before the hold time, for shares that follow the weights, below minConns, or for other schedulers', () => {
    const young = new SkewDetector(opts);
    expect(young.alarms(feed(young, 'sh', [1, 1], [50, 0], 25))).toEqual([]);
    const fair = new SkewDetector(opts);
    expect(fair.alarms(feed(fair, 'mh', [3, 1], [30, 10], 60))).toEqual([]);
    const quiet = new SkewDetector(opts);
    expect(quiet.alarms(feed(quiet, 'sh', [1, 1], [5, 0], 60))).toEqual([]); // 50 in a 10 s window, under minConns 100
    const rr = new SkewDetector(opts);
    expect(rr.alarms(feed(rr, 'rr', [1, 1], [50, 0], 60))).toEqual([]);
  });

  it('judges dh against equal shares, ignores weight-0 servers, and clears when the load spreads', () => {
    const d = new SkewDetector(opts);
    // dh ignores weights: 3:1 weights with a 3:1 split is skew for dh
    let now = feed(d, 'dh', [3, 1], [30, 10], 30);
    expect(d.alarms(now)[0]).toMatchObject({ scheduler: 'dh', flag: null, fix: null });
    const drained = new SkewDetector(opts);
    expect(drained.alarms(feed(drained, 'sh', [1, 1, 0], [20, 20, 0], 60))).toEqual([]);
    // the load spreads evenly: after a window of it, no alarm
    const s = new SkewDetector(opts);
    now = feed(s, 'sh', [1, 1], [50, 0], 30);
    expect(s.alarms(now)).toHaveLength(1);
    let c0 = 30 * 50, c1 = 0;
    for (let t = 31; t <= 45; t++) {
      c0 += 25; c1 += 25;
      s.observe(t * 1000, [svc('sh', [dest('192.168.150.12', 1, c0), dest('192.168.150.13', 1, c1)])]);
    }
    expect(s.alarms(45_000)).toEqual([]);
  });

  it('with sh-port set names no flag; a service that went away is forgotten', () => {
    const d = new SkewDetector(opts);
    const now = feed(d, 'sh', [1, 1], [50, 0], 30, 0, { sched2: true });
    expect(d.alarms(now)[0]).toMatchObject({ flag: null, fix: null });
    d.observe(now + 1000, []);
    expect(d.alarms(now + 1000)).toEqual([]);
  });
});
