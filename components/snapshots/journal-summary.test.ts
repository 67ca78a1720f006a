import { describe, expect, it } from 'vitest';
import { DEFAULT_TUNNEL } from '@/lib/ipvs/model';
import { summarizeJournal } from './journal-summary';

const svc = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
const dest = { family: 'inet', address: '10.1.0.2', port: 80, forward: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL } } as const;

describe('summarizeJournal', () => {
  it('says what changed on a real server', () => {
    expect(summarizeJournal([{ kind: 'destination', service: svc, before: dest, after: { ...dest, weight: 0 } }]))
      .toBe('changed real server 10.1.0.2:80 of TCP 10.0.0.1:80: weight 1 → 0');
  });
  it('names additions, removals and zeroing', () => {
    expect(summarizeJournal([
      { kind: 'destination', service: svc, before: null, after: dest },
      { kind: 'counters', key: null },
    ])).toBe('added real server 10.1.0.2:80 of TCP 10.0.0.1:80; zeroed counters of every service');
  });
});
