import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, lineOfKey, loadConfig, parseConsoleFile, tokenFor } from './config';

const agent = { id: 'lab', name: 'Lab director', url: 'http://127.0.0.1:7070/', viewerToken: 'v'.repeat(20), operatorToken: 'o'.repeat(20) };
const noFile = { exists: () => false, readFile: () => { throw new Error('ENOENT'); } };
const envOnly = (env: Record<string, string>) => loadConfig({ env, ...noFile });

/** A fake file system for loadConfig. */
function files(map: Record<string, string>) {
  return {
    exists: (p: string) => p in map,
    readFile: (p: string) => {
      if (!(p in map)) throw new Error(`ENOENT: no such file '${p}'`);
      return map[p]!;
    },
  };
}

const TOML = `# console
listen = "0.0.0.0:8443"
stateDir = "/var/lib/dc"
allowedOrigins = ["https://console.example:8443/"]

[tls]
cert = "/etc/director/c.crt"
key = "/etc/director/c.key"

[[agents]]
id = "lvs1"
name = "lvs1"
url = "https://10.0.0.11:9580/"
viewerTokenFile = "/etc/director/lvs1.viewer"
operatorToken = "${'o'.repeat(24)}"
fingerprint = "${'ab:'.repeat(31)}ab"

[[agents]]
id = "lvs2"
name = "lvs2"
url = "https://10.0.0.12:9580"
viewerToken = "${'w'.repeat(24)}"
`;

describe('console.toml', () => {
  const fs = files({
    '/etc/director/console.toml': TOML,
    '/etc/director/lvs1.viewer': `${'v'.repeat(24)}\n`,
    '/etc/director/c.crt': 'CERT',
    '/etc/director/c.key': 'KEY',
  });

  it('reads the default file: listen, agents with token files, TLS (Secure cookies on), users file under stateDir', () => {
    const c = loadConfig({ env: {}, ...fs });
    expect(c.file).toBe('/etc/director/console.toml');
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 8443 });
    expect(c.agents.map((a) => [a.id, a.url, a.viewerToken, a.operatorToken])).toEqual([
      ['lvs1', 'https://10.0.0.11:9580', 'v'.repeat(24), 'o'.repeat(24)],
      ['lvs2', 'https://10.0.0.12:9580', 'w'.repeat(24), undefined],
    ]);
    expect(c.agents[0]!.fingerprint).toBe(`${'AB:'.repeat(31)}AB`);
    expect(c.tls).toEqual({ cert: '/etc/director/c.crt', key: '/etc/director/c.key', hstsMaxAge: 31_536_000 });
    expect(c.secureCookies).toBe(true);
    expect(c.usersFile).toBe('/var/lib/dc/users.json');
    expect(c.allowedOrigins).toEqual(['https://console.example:8443']);
    expect(c.envUsers).toBeNull();
  });

  it('lets the lab\'s environment override the file', () => {
    const c = loadConfig({ env: { PORT: '3210', HOST: '127.0.0.1', DIRECTOR_AGENTS: JSON.stringify([agent]), DIRECTOR_CONSOLE_USERS_FILE: '/tmp/u.json' }, ...fs });
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 3210 });
    expect(c.agents.map((a) => a.id)).toEqual(['lab']);
    expect(c.usersFile).toBe('/tmp/u.json');
  });

  it.each([
    ['listen = "nowhere"', /console\.toml:1: listen: expected "ADDR:PORT"/],
    ['lsiten = "127.0.0.1:3000"', /console\.toml:1: lsiten: unknown key/],
    ['stateDir = "relative/dir"', /console\.toml:1: stateDir: must be an absolute path/],
    ['demo = "yes"', /console\.toml:1: demo: .*boolean/],
    ['[tls]\ncert = "/c"', /console\.toml:1: tls\.key: .*/],
    ['[tls]\ncert = "/c"\nkey = "/k"\nhstsMaxAge = -1', /console\.toml:4: tls\.hstsMaxAge: /],
    ['allowedOrigins = ["ftp//x"]', /console\.toml:1: allowedOrigins\.0: 'ftp\/\/x' is not an origin/],
    ['listen = ', /console\.toml:1:\d+: not valid TOML/],
    [`[[agents]]\nid = "a"\nname = "a"\nurl = "http://x:1"\nviewerToken = "${'v'.repeat(20)}"\n[[agents]]\nid = "b"\nname = "b"\nurl = "ftp://x"\nviewerToken = "${'v'.repeat(20)}"`,
      /console\.toml:9: agents\.1\.url: url must be http/],
    [`[[agents]]\nid = "a"\nname = "a"\nurl = "http://x:1"\nviewerToken = "short"`, /console\.toml:5: agents\.0\.viewerToken: viewerToken must be at least 16/],
    [`[[agents]]\nid = "a"\nname = "a"\nurl = "http://x:1"`, /console\.toml:1: agents\.0\.viewerTokenFile: give exactly one of viewerToken and viewerTokenFile/],
    [`[[agents]]\nid = "a"\nname = "a"\nurl = "http://x:1"\nviewerTokenFile = "/missing"`, /console\.toml:5: agents\.0\.viewerTokenFile: cannot read \/missing: ENOENT/],
    [`[[agents]]\nid = "a"\nname = "a"\nurl = "http://x:1"\nviewerToken = "${'v'.repeat(20)}"\ncolour = "red"`, /console\.toml:6: agents\.0\.colour: unknown key/],
    [`[[agents]]\nid = "a"\nname = "a"\nurl = "https://x:1"\nviewerToken = "${'v'.repeat(20)}"\nfingerprint = "AA:BB"`, /console\.toml:6: agents\.0\.fingerprint: fingerprint is the SHA-256/],
    [`[tls]\ncert = "/nope.crt"\nkey = "/etc/director/c.key"`, /console\.toml:2: tls\.cert: cannot read \/nope\.crt/],
  ])('refuses %j naming the file, line, key and why', (text, msg) => {
    const f = files({ '/etc/director/console.toml': text, '/etc/director/c.key': 'KEY' });
    expect(() => loadConfig({ env: {}, ...f })).toThrow(ConfigError);
    expect(() => loadConfig({ env: {}, ...f })).toThrow(msg);
  });

  it('refuses a missing named file, and starts nothing without any configuration', () => {
    expect(() => loadConfig({ env: { DIRECTOR_CONSOLE_CONFIG: '/etc/x.toml' }, ...noFile })).toThrow(/\/etc\/x\.toml: cannot read the console configuration: ENOENT/);
    expect(() => loadConfig({ env: {}, ...noFile })).toThrow(/no configuration: write \/etc\/director\/console\.toml/);
  });

  it('finds the line of nested keys and of the nth array table', () => {
    expect(lineOfKey(TOML, ['tls', 'key'])).toBe(8);
    expect(lineOfKey(TOML, ['agents', 1, 'url'])).toBe(21);
    expect(lineOfKey(TOML, ['agents', 1, 'missing'])).toBe(18);
    expect(lineOfKey(TOML, ['listen'])).toBe(2);
    expect(lineOfKey(TOML, ['nothing'])).toBeUndefined();
    expect(lineOfKey('a.b = 1\n', ['a', 'b'])).toBe(1);
  });

  it('parses an empty file (every key has a default)', () => {
    expect(parseConsoleFile('x', '')).toEqual({});
  });
});

describe('environment only (lab, tests)', () => {
  it('reads agents from DIRECTOR_AGENTS, trims the url, defaults the tRPC path', () => {
    const c = envOnly({ DIRECTOR_AGENTS: JSON.stringify([agent]) });
    expect(c.agents).toEqual([{ ...agent, url: 'http://127.0.0.1:7070', trpcPath: '/trpc', wsPath: '/trpc-ws' }]);
    expect(c.file).toBeNull();
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 3000 });
  });

  it('reads agents from a file when the variable is unset', () => {
    const c = loadConfig({ env: { DIRECTOR_AGENTS_FILE: '/etc/director/agents.json' }, exists: () => false, readFile: (p) => {
      expect(p).toBe('/etc/director/agents.json');
      return JSON.stringify([agent]);
    } });
    expect(c.agents[0]!.id).toBe('lab');
  });

  it.each([
    [{ DIRECTOR_AGENTS: '[{' }, /DIRECTOR_AGENTS is not valid JSON/],
    [{ DIRECTOR_AGENTS: JSON.stringify([{ ...agent, url: 'ftp://x' }]) }, /DIRECTOR_AGENTS\[0\.url\]: url must be http/],
    [{ DIRECTOR_AGENTS: JSON.stringify([{ ...agent, id: 'a/b' }]) }, /DIRECTOR_AGENTS\[0\.id\]/],
    [{ DIRECTOR_AGENTS: JSON.stringify([agent, agent]) }, /duplicate director id 'lab'/],
    [{ DIRECTOR_AGENTS: JSON.stringify([{ ...agent, viewerToken: 'short' }]) }, /viewerToken must be at least 16/],
    [{ DIRECTOR_AGENTS: JSON.stringify([agent]), DIRECTOR_CONSOLE_USERS: JSON.stringify([{ username: 'a', password: 'x', role: 'operator' }]) }, /DIRECTOR_CONSOLE_USERS\[0\.password\]/],
    [{ DIRECTOR_AGENTS: JSON.stringify([agent]), DIRECTOR_CONSOLE_ORIGINS: 'not a url' }, /'not a url' is not an origin/],
    [{ DIRECTOR_AGENTS: JSON.stringify([agent]), PORT: '99999' }, /PORT: '99999' is not a port/],
    [{ DIRECTOR_AGENTS: JSON.stringify([agent]), DIRECTOR_CONSOLE_TLS_CERT: '/c' }, /go together/],
  ])('rejects bad config %#', (env, msg) => {
    expect(() => envOnly(env)).toThrow(ConfigError);
    expect(() => envOnly(env)).toThrow(msg);
  });

  it('names the file it could not read', () => {
    expect(() => envOnly({ DIRECTOR_AGENTS_FILE: '/nope.json' })).toThrow(/cannot read \/nope.json: ENOENT/);
  });

  it('normalises allowed origins; flags from the environment', () => {
    const c = envOnly({ DIRECTOR_AGENTS: JSON.stringify([agent]), DIRECTOR_CONSOLE_ORIGINS: 'https://d.example:8443/, http://127.0.0.1:3000', DIRECTOR_CONSOLE_DEMO: '1', DIRECTOR_CONSOLE_SECURE_COOKIES: '1' });
    expect(c.allowedOrigins).toEqual(['https://d.example:8443', 'http://127.0.0.1:3000']);
    expect([c.demo, c.secureCookies, c.allowRoot]).toEqual([true, true, false]);
  });
});

describe('tokenFor', () => {
  const [a] = envOnly({ DIRECTOR_AGENTS: JSON.stringify([agent]) }).agents;
  it('gives operators and admins the operator token and viewers the viewer token', () => {
    expect(tokenFor(a!, 'operator')).toEqual({ token: agent.operatorToken, role: 'operator' });
    expect(tokenFor(a!, 'admin')).toEqual({ token: agent.operatorToken, role: 'operator' });
    expect(tokenFor(a!, 'viewer')).toEqual({ token: agent.viewerToken, role: 'viewer' });
  });
  it('downgrades operators on a director without an operator token', () => {
    expect(tokenFor({ ...a!, operatorToken: undefined }, 'operator')).toEqual({ token: agent.viewerToken, role: 'viewer' });
  });
});

describe('deploy/console.toml (the packaged example)', () => {
  it('parses as is, and every key it documents is a key of the schema with a valid example value', async () => {
    const text = readFileSync(new URL('../deploy/console.toml', import.meta.url), 'utf8');
    expect(parseConsoleFile('console.toml', text)).toEqual({});
    // uncomment the example lines (not the prose); the fingerprint's "…" is a placeholder
    const example = text.split('\n')
      .filter((l) => /^# (\[|[a-zA-Z]+ = )/.test(l) && !l.startsWith('# fingerprint'))
      .map((l) => l.slice(2).replace(/\s+#.*$/, ''))
      .join('\n');
    const c = parseConsoleFile('console.toml', example);
    expect(Object.keys(c).sort()).toEqual(['agents', 'allowRoot', 'allowedOrigins', 'demo', 'listen', 'secureCookies', 'stateDir', 'tls', 'usersFile']);
  });
});
