/**
 * The console process itself: a bad configuration or users file stops it before it
 * listens, with a message naming the file, line and key (it never starts half-configured).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'console/server.ts', ...args], {
    cwd: root, encoding: 'utf8', timeout: 60_000,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', DIRECTOR_CONSOLE_ALLOW_ROOT: '1', ...env },
  });
  return { code: r.status, err: r.stderr };
}

describe('console/server.ts start-up', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'director-console-start-'));

  it('refuses a bad console.toml naming file, line and key, and exits 2', () => {
    const file = path.join(dir, 'bad.toml');
    writeFileSync(file, 'listen = "127.0.0.1:0"\n[[agents]]\nid = "lab"\nname = "Lab"\nurl = "http://127.0.0.1:9"\nviewerToken = "short"\n');
    const r = run(['--config', file]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file}:6: agents.0.viewerToken: viewerToken must be at least 16 characters`);
  });

  it('refuses a broken users file before listening', () => {
    const file = path.join(dir, 'ok.toml');
    const users = path.join(dir, 'users.json');
    writeFileSync(users, JSON.stringify({ version: 1, users: [{ name: 'a', role: 'admin', password: 'plain text' }] }));
    writeFileSync(file, `listen = "127.0.0.1:0"\nusersFile = "${users}"\n`);
    const r = run(['--config', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/users file error:\n.*users\.json: users\.0: unknown key|users\.json: users\.0\.hash/);
  });

  it('refuses an unknown option', () => {
    const r = run(['--confg', 'x']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Unknown option '--confg'/);
  });
});
