/**
 * A keepalived.conf is hostile input: nesting, includes (depth, count,
 * bytes) and include cycles are bounded, each refusal names file and line,
 * and none takes long.
 */
import { describe, expect, it } from 'vitest';
import { LIMITS } from './lex';
import { parseKeepalived, type IncludeReader } from './parse';

/** Includes from an in-memory folder: exact names, or '*' for every file whose name starts with the prefix. */
function memReader(files: Record<string, string>): IncludeReader {
  return (pattern) => {
    const names = pattern.endsWith('*') ? Object.keys(files).filter((f) => f.startsWith(pattern.slice(0, -1))).sort() : [pattern];
    return names.map((f) => {
      if (!(f in files)) throw new Error(`${f}: no such file`);
      return { file: f, text: files[f]! };
    });
  };
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

describe('keepalived parser limits', () => {
  it('10,000 nested braces: an error at the 65th level, no stack overflow', () => {
    const text = `virtual_server 10.0.0.1 80 {\n${'x {\n'.repeat(10_000)}${'}\n'.repeat(10_001)}`;
    const { value: r, ms } = timed(() => parseKeepalived(text, { file: 'deep.conf' }));
    expect(ms).toBeLessThan(1000);
    expect(r.services).toEqual([]);
    expect(r.errors.filter((e) => /nested/.test(e.message))).toEqual([{ file: 'deep.conf', line: 65, message: `x: blocks nested more than ${LIMITS.depth} deep` }]);
  });

  it('a self-including file is refused as a cycle within a second', () => {
    // the 121-byte file: it includes itself four times per level
    const self = 'include self.conf\ninclude self.conf\ninclude self.conf\ninclude self.conf\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n}\n';
    const { value: r, ms } = timed(() => parseKeepalived(self, { file: 'self.conf', include: memReader({ 'self.conf': self }) }));
    expect(ms).toBeLessThan(1000);
    expect(r.services).toEqual([]);
    expect(r.errors[0]).toEqual({ file: 'self.conf', line: 1, message: 'include self.conf: self.conf includes itself (self.conf -> self.conf)' });
  });

  it('a cycle through two files names the chain', () => {
    const files = { 'a.conf': 'include b.conf\n', 'b.conf': '\ninclude a.conf\n' };
    const r = parseKeepalived(files['a.conf'], { file: 'a.conf', include: memReader(files) });
    expect(r.errors[0]).toEqual({ file: 'b.conf', line: 2, message: 'include a.conf: a.conf includes itself (a.conf -> b.conf -> a.conf)' });
  });

  it('includes nested more than 8 deep are refused', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 12; i++) files[`f${i}.conf`] = `include f${i + 1}.conf\n`;
    files['f12.conf'] = '';
    const r = parseKeepalived(files['f0.conf']!, { file: 'f0.conf', include: memReader(files) });
    expect(r.errors).toEqual([{ file: 'f8.conf', line: 1, message: 'include f9.conf: includes nested more than 8 deep' }]);
  });

  it('more than 100 included files are refused', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 150; i++) files[`part${String(i).padStart(3, '0')}.conf`] = '! nothing\n';
    const main = '! main\ninclude part*\n';
    const { value: r, ms } = timed(() => parseKeepalived(main, { file: 'main.conf', include: memReader(files) }));
    expect(ms).toBeLessThan(1000);
    expect(r.errors).toEqual([{ file: 'main.conf', line: 2, message: 'include part*: more than 100 included files in all' }]);
  });

  it('a configuration over 4 MiB with its includes is refused', () => {
    const big = `! ${'x'.repeat(3 * 1024 * 1024)}\n`;
    const files = { 'a.conf': big, 'b.conf': big };
    const r = parseKeepalived('include a.conf\ninclude b.conf\n', { file: 'main.conf', include: memReader(files) });
    expect(r.errors).toEqual([{ file: 'main.conf', line: 2, message: 'include b.conf: the configuration with its includes is over 4 MiB' }]);
    const alone = parseKeepalived(`${big}${big}`, { file: 'main.conf' });
    expect(alone.errors).toEqual([{ file: 'main.conf', line: 1, message: 'the configuration is over 4 MiB' }]);
  });

  it('a file included twice side by side (not a cycle) is fine', () => {
    const files = { 'vs.conf': '! shared\n' };
    const r = parseKeepalived('include vs.conf\ninclude vs.conf\n', { file: 'main.conf', include: memReader(files) });
    expect(r.errors).toEqual([]);
  });
});
