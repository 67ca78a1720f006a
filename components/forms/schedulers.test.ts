import { describe, expect, it } from 'vitest';
import { shownSchedulerFlags, usableSchedulerFlags } from './schedulers';

const none = { sched1: false, sched2: false, sched3: false };

describe('scheduler flags in the forms', () => {
  it('names sh and mh flags as the scheduler does, and offers only the two they read', () => {
    expect(usableSchedulerFlags('sh').map((f) => f.name)).toEqual(['sh-fallback', 'sh-port']);
    expect(usableSchedulerFlags('mh').map((f) => f.name)).toEqual(['mh-fallback', 'mh-port']);
  });

  it('offers no flag for schedulers that read none', () => {
    for (const s of ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sed', 'nq', 'fo', 'ovf']) expect(usableSchedulerFlags(s)).toEqual([]);
  });

  it('offers the three generic flags for an out-of-tree scheduler', () => {
    expect(usableSchedulerFlags('twos').map((f) => f.name)).toEqual(['flag-1', 'flag-2', 'flag-3']);
  });

  it('still shows a flag that is set where the scheduler ignores it, so it can be cleared', () => {
    expect(shownSchedulerFlags('rr', none)).toEqual([]);
    const shown = shownSchedulerFlags('rr', { ...none, sched2: true });
    expect(shown.map((f) => [f.key, f.name])).toEqual([['sched2', 'flag-2']]);
    expect(shown[0]!.help).toMatch(/no effect/);
    expect(shownSchedulerFlags('sh', { ...none, sched3: true }).map((f) => f.name)).toEqual(['sh-fallback', 'sh-port', 'flag-3']);
  });
});
