import { describe, expect, it } from 'vitest';
import { DEFAULT_TUNNEL } from '@/lib/ipvs/model';
import { describeJournalEntry, summarizeJournal } from './journal-summary';

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
    ])).toBe('added real server 10.1.0.2:80 of TCP 10.0.0.1:80; zeroed counters of every service (cannot be undone)');
  });
});

describe('describeJournalEntry', () => {
  it('shows failures with what they left, interruptions, and summaries of large changes', async () => {
    expect(describeJournalEntry({ objects: [], state: 'failed', error: 'the kernel refused' })).toBe('failed: the kernel refused; nothing was changed');
    expect(describeJournalEntry({ objects: [{ kind: 'destination', service: svc, before: null, after: dest }], state: 'failed', error: 'x' }))
      .toBe('failed: x; left changed: added real server 10.1.0.2:80 of TCP 10.0.0.1:80');
    expect(describeJournalEntry({ objects: [], summary: '3 operation(s) on 1 service(s)', state: 'interrupted' }))
      .toBe('interrupted (the agent stopped; the kernel may or may not have it): 3 operation(s) on 1 service(s)');
    expect(describeJournalEntry({ objects: [{ kind: 'counters', key: null }] })).toBe('zeroed counters of every service (cannot be undone)');
  });
});
