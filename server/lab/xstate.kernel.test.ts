/**
 * The lab kernel keeps each guest thread's whole FPU state on AVX-512 hosts
 * (server/lab/uml-xstate-shim.c): four threads of one process, each with its
 * own value in an AVX-512 register, yield and get preempted 100,000 times.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostNeedsXstateShim } from './xstate-shim';

const avx512 = hostNeedsXstateShim() && /\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
const cc = spawnSync('cc', ['--version']).status === 0;
const reason = !avx512 ? 'this CPU has no AVX-512' : 'no C compiler in the lab (apt-get install gcc libc6-dev)';

describe.skipIf(!avx512 || !cc)(`FPU state in the lab kernel${!avx512 || !cc ? ` (skipped: ${reason})` : ''}`, () => {
  it('AVX-512 registers survive context switches between threads of one process', () => {
    const bin = '/tmp/avx512-threads';
    const build = spawnSync('cc', ['-O2', '-mavx512f', '-pthread', '-o', bin, path.join(import.meta.dirname, 'testdata/avx512-threads.c')], { encoding: 'utf8' });
    expect(build.stderr).toBe('');
    const r = spawnSync(bin, { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout.trim()).toBe('threads: corrupted 0 of 400000');
    expect(r.status).toBe(0);
  });
});
