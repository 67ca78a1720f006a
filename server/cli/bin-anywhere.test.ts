/**
 * `bin/director.mjs` from a checkout without a bundle runs the sources
 * through tsx; the '@/' imports must resolve whatever the working folder.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = path.resolve(import.meta.dirname, '../../bin/director.mjs');

describe('bin/director.mjs without a bundle', () => {
  it('runs a command that imports through @/ from the root folder', () => {
    const r = spawnSync(process.execPath, [BIN, 'agent', '--help'], { cwd: '/', encoding: 'utf8', env: { ...process.env, DIRECTOR_NO_BUNDLE: '1' }, timeout: 60_000 });
    expect(r.stderr).not.toMatch(/Cannot find/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/usage: director agent/);
  }, 60_000);
});
