import { describe, expect, it } from 'vitest';
import type { DrainProgress } from '@/lib/agent/events';
import { drainFraction, drainWords } from './DrainStatus';

const p = (over: Partial<DrainProgress>): DrainProgress => ({
  service: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: 80 },
  destination: { family: 'inet', address: '192.168.150.12', port: 80 },
  at: 0, weight: 0, active: 0, inactive: 3, persistent: 2, remains: { connections: 3, udp: 0, templates: 2, connectionsLeft: 40, templatesLeft: 75, emptyIn: 75, partial: false },
  done: false, activeDone: true, gone: false, caveat: null, restoreWeight: 5, ...over,
});

describe('drain status', () => {
  it('is not done while inactive connections or templates remain, and says when it will be empty', () => {
    expect(drainWords(p({}))).toBe('0 active, 3 inactive connections, 2 persistence templates remain; empty in about 1m15s if nothing new arrives.');
  });
  it('follows the time left once the table says it', () => {
    expect(drainFraction(p({ remains: { ...p({}).remains!, emptyIn: 30 } }), { emptyIn: 120, total: 5 })).toBeCloseTo(0.75);
    expect(drainFraction(p({ done: true }), { emptyIn: 120, total: 5 })).toBe(1);
  });
  it('says done only when both are gone', () => {
    expect(drainWords(p({ done: true, inactive: 0, persistent: 0 }))).toMatch(/^Drained: no connections and no persistence templates left/);
  });
});
