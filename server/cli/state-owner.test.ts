import { mkdir, mkdtemp, rm, writeFile, chown } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { passwdUser, stateOwner } from './state-owner';

describe('stateOwner', () => {
  let dir: string;
  let passwdFile: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'owner-'));
    passwdFile = path.join(dir, 'passwd');
    await writeFile(passwdFile, 'root:x:0:0:root:/root:/bin/bash\ndirector:x:999:998:Director agent:/var/lib/director:/usr/sbin/nologin\n');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is the state folder\'s owner when that is not root', async () => {
    expect(process.geteuid?.(), 'this test needs root to give a folder to another uid').toBe(0);
    const state = path.join(dir, 'state');
    await mkdir(state);
    await chown(state, 4242, 4343);
    expect(await stateOwner(state, { euid: 0, passwdFile })).toEqual({ uid: 4242, gid: 4343 });
  });

  it('is the director user when the folder is root\'s or missing, and null without one', async () => {
    expect(await stateOwner(path.join(dir, 'missing'), { euid: 0, passwdFile })).toEqual({ uid: 999, gid: 998 });
    expect(await stateOwner(path.join(dir, 'missing'), { euid: 0, passwdFile, user: 'nobody-here' })).toBeNull();
  });

  it('is null when not run as root (the writer owns what it writes)', async () => {
    expect(await stateOwner(dir, { euid: 1000, passwdFile })).toBeNull();
  });

  it('reads passwd lines', () => {
    expect(passwdUser('a:x:1:2::/:/bin/sh\ndirector:x:10:20::/:/bin/false', 'director')).toEqual({ uid: 10, gid: 20 });
    expect(passwdUser('director:x:ten:20::/:/bin/false', 'director')).toBeNull();
  });
});
