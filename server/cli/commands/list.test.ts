import { describe, expect, it } from 'vitest';
import { JSON_PIECE, jsonWriter } from './list';

describe('list --json in pieces', () => {
  it('prints what one JSON.stringify({ info, services }) prints, byte for byte', () => {
    const info = { version: '1.2.1', versionCode: 66049, connTableSize: 4096 };
    for (const n of [0, 1, 499, 500, 501, 1234]) {
      const services = Array.from({ length: n }, (_, i) => ({ key: { kind: 'fwmark', family: 'inet', fwmark: i + 1 }, name: `s"${i}\u2028`.repeat(20) }));
      const pieces: string[] = [];
      const out = jsonWriter(info, { stdout: (s) => pieces.push(s), stderr: () => {}, readStdin: async () => '' });
      for (const s of services) out.add(s);
      out.end();
      expect(pieces.join('')).toBe(`${JSON.stringify({ info, services })}\n`);
      // every piece but the last is handed over once it reaches JSON_PIECE characters, not later
      const longest = Math.max(0, ...services.map((x) => JSON.stringify(x).length + 1));
      for (const p of pieces.slice(0, -1)) {
        expect(p.length).toBeGreaterThanOrEqual(JSON_PIECE);
        expect(p.length).toBeLessThan(JSON_PIECE + longest);
      }
      expect(pieces.length).toBe(n === 1234 ? 4 : n >= 499 ? 2 : 1);
    }
  });
});
