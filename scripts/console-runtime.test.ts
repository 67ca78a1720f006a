import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleBuildMissing, assembleConsole, copyReadable } from './console-runtime.mjs';

const dirs: string[] = [];
const scratch = () => { const d = mkdtempSync(path.join(tmpdir(), 'console-runtime-test-')); dirs.push(d); return d; };
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
const mode = (p: string) => statSync(p).mode & 0o777;

describe('copyReadable', () => {
  it('makes a build made under umask 077 readable by all: folders 0755, files 0644, executables 0755', () => {
    const src = path.join(scratch(), 'src');
    mkdirSync(path.join(src, 'sub'), { recursive: true, mode: 0o700 });
    chmodSync(src, 0o700);
    writeFileSync(path.join(src, 'sub', 'page.js'), 'x', { mode: 0o600 });
    writeFileSync(path.join(src, 'tool'), '#!/bin/sh', { mode: 0o700 });
    symlinkSync('sub/page.js', path.join(src, 'link.js'));
    symlinkSync('nowhere', path.join(src, 'dangling'));
    const dest = path.join(scratch(), 'dest');
    copyReadable(src, dest);
    expect([mode(dest), mode(path.join(dest, 'sub')), mode(path.join(dest, 'sub', 'page.js')), mode(path.join(dest, 'tool'))]).toEqual([0o755, 0o755, 0o644, 0o755]);
    // a link becomes what it points to, so nothing in the copy leads back into the checkout
    expect(lstatSync(path.join(dest, 'link.js')).isSymbolicLink()).toBe(false);
    expect(readFileSync(path.join(dest, 'link.js'), 'utf8')).toBe('x');
    expect(existsSync(path.join(dest, 'dangling'))).toBe(false);
  });
});

describe('assembleConsole', () => {
  it('names the missing standalone build and what makes it', async () => {
    const root = scratch();
    await expect(assembleConsole({ root, dest: path.join(root, 'out') })).rejects.toThrow(ConsoleBuildMissing);
    await expect(assembleConsole({ root, dest: path.join(root, 'out') })).rejects.toThrow(/\.next\/standalone\/server\.js is missing: build the console with next build/);
  });
});
