import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimTap } from './uml';

const name = `dtest${process.pid}`;
const lock = path.join(tmpdir(), `director-lab-tap-${name}.lock`);

describe('claimTap', () => {
  it('makes a second lab wait for the first to free the tap, naming its pid', async () => {
    const release = await claimTap(name);
    let waitedFor: number | null = null;
    let second: (() => void) | null = null;
    const claim = claimTap(name, undefined, (pid) => { waitedFor = pid; }).then((r) => { second = r; });
    await new Promise((r) => setTimeout(r, 1500));
    expect(waitedFor).toBe(process.pid);
    expect(second).toBeNull();
    release();
    await claim;
    expect(second).not.toBeNull();
    second!();
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock whose owner is gone', async () => {
    writeFileSync(lock, '2147483646');
    const release = await claimTap(name);
    release();
    expect(existsSync(lock)).toBe(false);
  });

  it('stops waiting when aborted', async () => {
    writeFileSync(lock, String(process.ppid));
    await expect(claimTap(name, AbortSignal.abort())).rejects.toThrow(`stopped while waiting for the lab of pid ${process.ppid} to free the tap ${name}`);
    rmSync(lock);
  });
});
