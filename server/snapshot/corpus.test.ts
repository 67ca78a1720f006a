// The corpus was produced by the real ipvsadm in the lab kernel (corpus/make-corpus.sh).
// Host-side: parsing each file and formatting it again gives the file back byte for byte.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatSnapshot } from '@/lib/snapshot/format';
import { parseSnapshot } from '@/lib/snapshot/parse';
import { systemResolver } from './resolver';

const dir = path.join(import.meta.dirname, 'corpus');
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

describe('ipvsadm corpus', () => {
  it('has the scenarios', () => {
    expect(files).toEqual(['names.txt', 'quirks.txt', 'reference.txt', 'schedulers.txt', 'sorting.txt']);
  });
  it.each(files.filter((f) => f !== 'names.txt'))('format(parse(%s)) is the ipvsadm -Sn text', async (f) => {
    const text = readFileSync(path.join(dir, f), 'utf8');
    const r = await parseSnapshot(text);
    expect(r.errors).toEqual([]);
    expect(formatSnapshot(r.services)).toBe(text);
  });
  it('ipvsadm -S without -n (service names) parses, via /etc/services, to the -Sn table', async () => {
    const r = await parseSnapshot(readFileSync(path.join(dir, 'names.txt'), 'utf8'), { resolver: systemResolver() });
    expect(r.errors).toEqual([]);
    expect(formatSnapshot(r.services)).toBe(readFileSync(path.join(dir, 'reference.txt'), 'utf8'));
  });
});
