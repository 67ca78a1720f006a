import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostNeedsXstateShim, xstateShim } from './xstate-shim';

describe('hostNeedsXstateShim', () => {
  it('reads the flags line of /proc/cpuinfo', () => {
    expect(hostNeedsXstateShim('processor\t: 0\nflags\t\t: fpu sse2 avx avx2 xsave\n')).toBe(false);
    expect(hostNeedsXstateShim('flags\t\t: fpu avx2 avx512f avx512vl\n')).toBe(true);
    expect(hostNeedsXstateShim('flags\t\t: fpu avx2 amx_tile\n')).toBe(true);
    expect(hostNeedsXstateShim('')).toBe(false);
  });
});

const dir = mkdtempSync(path.join(tmpdir(), 'shim-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const skip = !hostNeedsXstateShim() ? 'this CPU does not need the shim' : spawnSync('cc', ['--version']).status !== 0 ? 'no C compiler' : '';

describe.skipIf(skip !== '')(`xstateShim${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('compiles once per source into the cache folder and exports ptrace', () => {
    const lib = xstateShim(dir)!;
    expect(lib.startsWith(dir)).toBe(true);
    expect(xstateShim(dir)).toBe(lib);
    const nm = spawnSync('nm', ['-D', '--defined-only', lib], { encoding: 'utf8' });
    expect(nm.stdout).toMatch(/ T ptrace$/m);
  });
});
