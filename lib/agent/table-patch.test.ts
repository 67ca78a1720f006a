import { describe, expect, it } from 'vitest';
import type { ServedService } from './events';
import type { ServiceKey } from '../ipvs/model';
import { patchServices, replyPatch } from './table-patch';

const key = (port: number): ServiceKey => ({ kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.0.2.1', port });
const STATS = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };
function svc(port: number, at: number, scheduler = 'wlc', weights: number[] = [1]): ServedService {
  return {
    key: key(port), scheduler, flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false },
    timeout: 0, netmask: '255.255.255.255', pe: null, stats: STATS, readAt: { config: at, stats: at },
    destinations: weights.map((weight, i) => ({
      family: 'inet', address: `10.0.0.${i + 1}`, port: 80, forward: 'dr', weight, upperThreshold: 0, lowerThreshold: 0,
      tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' }, activeConns: 0, inactiveConns: 0, persistentConns: 0, stats: STATS,
    })),
  };
}

describe('patchServices', () => {
  it('replaces changed services where they stand, appends new ones and drops removed ones', () => {
    const list = [svc(80, 10), svc(81, 10), svc(82, 10)];
    const out = patchServices(list, { at: 20, services: [svc(81, 20, 'rr', [1, 3]), svc(90, 20)], removed: [key(80)] })!;
    expect(out.map((s) => s.key.kind === 'addr' && s.key.port)).toEqual([81, 82, 90]);
    expect(out[0]!.scheduler).toBe('rr');
    expect(out[0]!.destinations.map((d) => d.weight)).toEqual([1, 3]);
    expect(out[1]).toBe(list[2]);
    // the input is not modified (react-query compares by reference)
    expect(list.map((s) => s.scheduler)).toEqual(['wlc', 'wlc', 'wlc']);
  });

  it('ends with the same list a fresh read gives after the same changes', () => {
    const before = [svc(80, 10), svc(81, 10)];
    const after = [svc(81, 20, 'sh'), svc(83, 20, 'wlc', [2])];
    const patched = patchServices(before, { at: 20, services: [after[0]!, after[1]!], removed: [key(80)] });
    expect(patched).toEqual(after);
  });

  it('an event older than the list read does not undo it', () => {
    const list = [svc(80, 30, 'sh'), svc(81, 30)];
    const out = patchServices(list, { at: 20, services: [svc(80, 20, 'rr')], removed: [key(81)] });
    expect(out).toBe(list);
  });

  it('returns the same list when nothing changes, and nothing when there is no list yet', () => {
    const list = [svc(80, 10)];
    expect(patchServices(list, { at: 20, services: [], removed: [key(99)] })).toBe(list);
    expect(patchServices(undefined, { at: 20, services: [svc(80, 20)], removed: [] })).toBeUndefined();
  });

  it('applies mutation replies: the service written, or its removal', () => {
    const list = [svc(80, 10), svc(81, 10)];
    const upd = patchServices(list, replyPatch({ service: svc(80, 15, 'lc') }))!;
    expect(upd[0]!.scheduler).toBe('lc');
    const rm = patchServices(upd, replyPatch({ removed: key(81), at: 16 }))!;
    expect(rm.map((s) => s.scheduler)).toEqual(['lc']);
  });
});
