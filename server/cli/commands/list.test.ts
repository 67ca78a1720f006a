import { describe, expect, it } from 'vitest';
import { jsonWriter } from './list';

describe('list --json in pieces', () => {
  it('prints what one JSON.stringify({ info, services }) prints, byte for byte', () => {
    const info = { version: '1.2.1', versionCode: 66049, connTableSize: 4096 };
    for (const n of [0, 1, 499, 500, 501, 1234]) {
      const services = Array.from({ length: n }, (_, i) => ({ key: { kind: 'fwmark', family: 'inet', fwmark: i + 1 }, name: `s"${i}\u2028` }));
      const pieces: string[] = [];
      const out = jsonWriter(info, { stdout: (s) => pieces.push(s), stderr: () => {}, readStdin: async () => '' });
      for (const s of services) out.add(s);
      out.end();
      expect(pieces.join('')).toBe(`${JSON.stringify({ info, services })}\n`);
      expect(pieces.length).toBe(Math.floor(n / 500) + 1);
    }
  });
});
