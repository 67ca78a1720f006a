import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, tokenFor } from './config';

const agent = { id: 'lab', name: 'Lab director', url: 'http://127.0.0.1:7070/', viewerToken: 'v'.repeat(20), operatorToken: 'o'.repeat(20) };
const fixed = (n: number) => Buffer.alloc(n, 7);

describe('loadConfig', () => {
  it('reads agents from DIRECTOR_AGENTS, trims the url, defaults the tRPC path', () => {
    const c = loadConfig({ DIRECTOR_AGENTS: JSON.stringify([agent]) }, () => '', fixed);
    expect(c.agents).toEqual([{ ...agent, url: 'http://127.0.0.1:7070', trpcPath: '/trpc', wsPath: '/trpc-ws' }]);
  });

  it('reads agents from a file when the variable is unset', () => {
    const c = loadConfig({ DIRECTOR_AGENTS_FILE: '/etc/director/agents.json' }, (p) => {
      expect(p).toBe('/etc/director/agents.json');
      return JSON.stringify([agent]);
    }, fixed);
    expect(c.agents[0]!.id).toBe('lab');
  });

  it('generates an operator and a viewer account when no users are configured', () => {
    const c = loadConfig({ DIRECTOR_AGENTS: JSON.stringify([agent]) }, () => '', fixed);
    expect(c.generatedUsers.map((u) => [u.username, u.role])).toEqual([['operator', 'operator'], ['viewer', 'viewer']]);
    expect(c.generatedUsers[0]!.password.length).toBeGreaterThanOrEqual(16);
    expect(c.secretGenerated).toBe(true);
  });

  it.each([
    [{}, /set DIRECTOR_AGENTS/],
    [{ DIRECTOR_AGENTS: '[{' }, /DIRECTOR_AGENTS is not valid JSON/],
    [{ DIRECTOR_AGENTS: '[]' }, /at least one director/],
    [{ DIRECTOR_AGENTS: JSON.stringify([{ ...agent, url: 'ftp://x' }]) }, /DIRECTOR_AGENTS\[0\.url\]: url must be http/],
    [{ DIRECTOR_AGENTS: JSON.stringify([{ ...agent, id: 'a/b' }]) }, /DIRECTOR_AGENTS\[0\.id\]/],
    [{ DIRECTOR_AGENTS: JSON.stringify([agent, agent]) }, /duplicate director id 'lab'/],
    [{ DIRECTOR_AGENTS: JSON.stringify([{ ...agent, viewerToken: 'short' }]) }, /viewerToken must be at least 16/],
    [{ DIRECTOR_AGENTS: JSON.stringify([agent]), DIRECTOR_CONSOLE_SECRET: 'short' }, /at least 32 characters/],
    [{ DIRECTOR_AGENTS: JSON.stringify([agent]), DIRECTOR_CONSOLE_USERS: JSON.stringify([{ username: 'a', password: 'x', role: 'operator' }]) }, /DIRECTOR_CONSOLE_USERS\[0\.password\]/],
    [{ DIRECTOR_AGENTS: JSON.stringify([agent]), DIRECTOR_CONSOLE_ORIGINS: 'not a url' }, /'not a url' is not an origin/],
  ])('rejects bad config %#', (env, msg) => {
    expect(() => loadConfig(env, () => { throw new Error('ENOENT'); }, fixed)).toThrow(ConfigError);
    expect(() => loadConfig(env, () => { throw new Error('ENOENT'); }, fixed)).toThrow(msg);
  });

  it('names the file it could not read', () => {
    expect(() => loadConfig({ DIRECTOR_AGENTS_FILE: '/nope.json' }, () => { throw new Error('ENOENT'); })).toThrow(/cannot read \/nope.json: ENOENT/);
  });

  it('normalises allowed origins', () => {
    const c = loadConfig({ DIRECTOR_AGENTS: JSON.stringify([agent]), DIRECTOR_CONSOLE_ORIGINS: 'https://d.example:8443/, http://127.0.0.1:3000' }, () => '', fixed);
    expect(c.allowedOrigins).toEqual(['https://d.example:8443', 'http://127.0.0.1:3000']);
  });
});

describe('tokenFor', () => {
  const [a] = loadConfig({ DIRECTOR_AGENTS: JSON.stringify([agent]) }, () => '', fixed).agents;
  it('gives operators the operator token and viewers the viewer token', () => {
    expect(tokenFor(a!, 'operator')).toEqual({ token: agent.operatorToken, role: 'operator' });
    expect(tokenFor(a!, 'viewer')).toEqual({ token: agent.viewerToken, role: 'viewer' });
  });
  it('downgrades operators on a director without an operator token', () => {
    expect(tokenFor({ ...a!, operatorToken: undefined }, 'operator')).toEqual({ token: agent.viewerToken, role: 'viewer' });
  });
});
