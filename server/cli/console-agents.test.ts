/**
 * `director console agents | rename-agent | remove-agent` on a console's
 * agents.json (add-agent against a real agent: console/enroll.test.ts and
 * server/cli/enroll.kernel.test.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AgentsStore, agentsFile } from '../../console/agents-store';
import { consoleStateDir } from './console-agents';
import { director } from './testing';

let dir: string;
const FP = Array(32).fill('AB').join(':');
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'director-console-agents-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});


it('lists, renames and removes (revoking fails politely when the agent is gone)', async () => {
  expect((await director('console', 'agents', '--state-dir', dir)).out).toBe('no enrolled directors\n');
  new AgentsStore(agentsFile(dir)).add({
    name: 'lvs1', url: 'https://127.0.0.1:1', fingerprint: FP, viewerToken: `viewer_${'a'.repeat(43)}`, operatorToken: `operator_${'b'.repeat(43)}`,
    credentialId: 'c0ffee', enrolledAt: '2026-12-04T21:00:00.000Z',
  });
  const list = await director('console', 'agents', '--state-dir', dir);
  expect(list.out).toBe(`lvs1\tlvs1\thttps://127.0.0.1:1\t${FP}\tenrolled 2026-12-04T21:00:00.000Z\n`);
  expect(list.out).not.toContain('aaaa');

  expect((await director('console', 'rename-agent', 'lvs1', 'Director one', '--state-dir', dir)).out).toBe("director lvs1 is now 'Director one'\n");
  expect((await director('console', 'rename-agent', 'nope', 'x', '--state-dir', dir)).err).toContain("no enrolled director with id 'nope'");

  const rm1 = await director('console', 'remove-agent', 'lvs1', '--state-dir', dir);
  expect(rm1.code).toBe(0);
  expect(rm1.out).toContain("removed director 'Director one'");
  expect(rm1.err).toContain("remove the entry 'c0ffee' from <state>/tokens/consoles.json");
  expect(new AgentsStore(agentsFile(dir)).list()).toEqual([]);
  expect((await director('console', 'add-agent', '--state-dir', dir)).code).toBe(2);
  expect((await director('console', 'add-agent', 'garbage', '--state-dir', dir)).err).toContain("starts with 'director-enroll-'");
});

it('finds the state folder in console.toml when not given', async () => {
  await writeFile(path.join(dir, 'console.toml'), `stateDir = "${dir}/state"\n`);
  expect(consoleStateDir({ config: path.join(dir, 'console.toml') }, {})).toBe(`${dir}/state`);
  expect(consoleStateDir({ config: path.join(dir, 'console.toml') }, { DIRECTOR_CONSOLE_STATE_DIR: '/x' })).toBe('/x');
  expect(consoleStateDir({ 'state-dir': '/y' }, {})).toBe('/y');
});
