/** The registry entry: a code in a znode named by the director id; anything else is skipped with why. */
import { describe, expect, it } from 'vitest';
import { encodeCode } from './code';
import { encodeRegistryData, parseRegistryNode, registryListingSchema } from './registry';

const FP = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':');
const SECRET = 'A'.repeat(43);
const code = encodeCode({ url: 'https://10.0.0.2:9580', fingerprint: FP, secret: SECRET });

describe('registry entries', () => {
  it('round-trips a code into an entry named by the node', () => {
    expect(parseRegistryNode('lvs2', encodeRegistryData(code))).toEqual({
      entry: { directorId: 'lvs2', url: 'https://10.0.0.2:9580', fingerprint: FP, code },
    });
  });

  it('skips malformed nodes with a reason that never echoes the secret', () => {
    const bad: [string, Uint8Array | null][] = [
      ['LVS 2', encodeRegistryData(code)],
      ['lvs2', null],
      ['lvs2', new Uint8Array(4096).fill(65)],
      ['lvs2', Uint8Array.from([0xff, 0xfe, 0x41])],
      ['lvs2', encodeRegistryData('hello')],
      ['lvs2', encodeRegistryData(encodeCode({ url: 'http://10.0.0.2:9580', fingerprint: FP, secret: SECRET }))],
      ['lvs2', encodeRegistryData(encodeCode({ url: 'https://10.0.0.2:9580', fingerprint: 'AA:BB', secret: SECRET }))],
    ];
    const reasons = bad.map(([n, d]) => {
      const r = parseRegistryNode(n, d);
      expect(r, n).not.toHaveProperty('entry');
      return (r as { reason: string }).reason;
    });
    expect(reasons[0]).toMatch(/not a director id/);
    expect(reasons[1]).toBe('no data');
    expect(reasons[2]).toMatch(/too large/);
    expect(reasons[3]).toMatch(/not UTF-8/);
    expect(reasons[4]).toMatch(/starts with 'director-enroll-'/);
    expect(reasons[5]).toMatch(/https/);
    expect(reasons[6]).toMatch(/fingerprint/);
    for (const r of reasons) expect(r).not.toContain(SECRET);
  });

  it('a listing from an agent is checked as a whole', () => {
    expect(registryListingSchema.safeParse({ entries: [{ directorId: 'lvs2', url: 'https://x:1', fingerprint: FP, code }], skipped: [] }).success).toBe(true);
    expect(registryListingSchema.safeParse({ entries: [{ directorId: '../x', url: 'https://x:1', fingerprint: FP, code }], skipped: [] }).success).toBe(false);
    expect(registryListingSchema.safeParse({ entries: [], skipped: [], extra: 1 }).success).toBe(false);
  });
});
