import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { authenticate, UserStore } from '../../../console/users';
import { runCli } from '../main';
import { usersFileFrom } from './console';

function io(stdin = '') {
  const out: string[] = [], err: string[] = [];
  return { out, err, io: { stdout: (s: string) => { out.push(s); }, stderr: (s: string) => { err.push(s); }, readStdin: async () => stdin } };
}

let dir: string;
let file: string;
const cli = async (args: string[], stdin = '') => {
  const t = io(stdin);
  const code = await runCli(['console', 'user', ...args, '--users-file', file], t.io);
  return { code, out: t.out.join(''), err: t.err.join('') };
};
const users = () => {
  const s = new UserStore(file);
  s.reload();
  return s.list();
};

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'director-cli-users-'));
  file = path.join(dir, 'users.json');
});

describe('director console user', () => {
  it('add, list, passwd, role, remove: a round trip that stores only hashes', async () => {
    expect(await cli(['add', 'alice', '--role', 'admin'], 'alice first pw\n')).toMatchObject({ code: 0, out: expect.stringMatching(/added alice \(admin\)/) });
    expect((await cli(['add', 'bob', '--role', 'viewer'], 'bob password\n')).code).toBe(0);
    expect((await cli(['list'])).out).toBe('alice\tadmin\nbob\tviewer\n');
    expect(readFileSync(file, 'utf8')).not.toMatch(/alice first pw|bob password/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await authenticate(users(), 'alice', 'alice first pw')).toEqual({ name: 'alice', role: 'admin' });

    expect((await cli(['passwd', 'alice'], 'alice second pw\n')).code).toBe(0);
    expect(await authenticate(users(), 'alice', 'alice first pw')).toBeNull();
    expect(await authenticate(users(), 'alice', 'alice second pw')).not.toBeNull();
    expect(readFileSync(file, 'utf8')).not.toContain('alice second pw');

    expect((await cli(['role', 'bob', 'operator'])).code).toBe(0);
    expect(users().find((u) => u.name === 'bob')?.role).toBe('operator');

    expect((await cli(['remove', 'bob'])).code).toBe(0);
    expect((await cli(['list'])).out).toBe('alice\tadmin\n');
  });

  it('refuses bad input with a clear message and changes nothing', async () => {
    await cli(['add', 'alice', '--role', 'admin'], 'alice first pw\n');
    const before = readFileSync(file, 'utf8');
    const cases: Array<[string[], string, RegExp, number]> = [
      [['add', 'carol', '--role', 'root'], 'carol password', /--role: expected one of viewer, operator, admin, got 'root'/, 1],
      [['add', 'carol', '--role', 'viewer'], 'short\n', /at least 10 characters/, 1],
      [['add', 'carol', '--role', 'viewer'], '', /no password on stdin/, 1],
      [['add', 'al ice', '--role', 'viewer'], 'long enough pw', /a user name is 1-64 letters/, 1],
      [['add', 'alice', '--role', 'viewer'], 'long enough pw', /already exists/, 1],
      [['passwd', 'nobody'], 'long enough pw', /no user 'nobody'/, 1],
      [['remove', 'nobody'], '', /no user 'nobody'/, 1],
      [['frobnicate'], '', /usage: director console user add/, 2],
      [['add'], '', /usage/, 2],
    ];
    for (const [args, stdin, msg, code] of cases) {
      const r = await cli(args, stdin);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.err, args.join(' ')).toMatch(msg);
    }
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('finds the users file through console.toml (usersFile, else stateDir)', () => {
    const cfg = path.join(dir, 'console.toml');
    writeFileSync(cfg, 'stateDir = "/var/lib/dc"\n');
    expect(usersFileFrom({ config: cfg })).toBe('/var/lib/dc/users.json');
    writeFileSync(cfg, 'usersFile = "/etc/director/users.json"\n');
    expect(usersFileFrom({ config: cfg })).toBe('/etc/director/users.json');
    writeFileSync(cfg, 'usersFile = "relative"\n');
    expect(() => usersFileFrom({ config: cfg })).toThrow(/console\.toml:1: usersFile: must be an absolute path/);
    expect(usersFileFrom({ 'users-file': 'x.json' })).toBe(path.resolve('x.json'));
  });

  it('says which sub-commands exist', async () => {
    const t = io();
    expect(await runCli(['console', 'nope'], t.io)).toBe(2);
    expect(t.err.join('')).toMatch(/unknown sub-command 'nope' \(user, add-agent, agents, rename-agent, remove-agent\)/);
  });
});
