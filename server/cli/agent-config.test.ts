import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configAsFlags } from '../../lib/schemas/agent-config';
import { agentConfigPath, DEFAULT_AGENT_CONFIG, lineOfKey, loadAgentConfig, parseAgentConfig } from './agent-config';
import agent from './commands/agent';

const dir = mkdtempSync(path.join(os.tmpdir(), 'agent-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}
function io() {
  const out: string[] = [], err: string[] = [];
  return { out, err, io: { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s), readStdin: async () => '' } };
}

const GOOD = `# a director
listen = "[::1]:9580"
stateDir = "/var/lib/director"
allowOrigins = ["https://console.example:3000", "http://127.0.0.1:3000"]
tickMs = 500
destBudget = 16
skewWindow = 30
skewHold = 120
tlsCert = "/etc/director/agent.crt"
tlsKey = "/etc/director/agent.key"
insecureListen = false
logLevel = "warn"
directorId = "lvs-1"
haConfig = "/etc/director/ha.json"
checksDir = "/etc/director/checks.d"
checkUser = "nobody"
allowLocalChecks = true
checkRunner = "/run/director-checks/checks.sock"
`;

describe('agent configuration file', () => {
  it('reads every key of a good file and maps each to its flag', () => {
    const cfg = loadAgentConfig(file('good.toml', GOOD));
    expect(cfg).toEqual({
      listen: '[::1]:9580', stateDir: '/var/lib/director', allowOrigins: ['https://console.example:3000', 'http://127.0.0.1:3000'],
      tickMs: 500, destBudget: 16, skewWindow: 30, skewHold: 120, tlsCert: '/etc/director/agent.crt', tlsKey: '/etc/director/agent.key', insecureListen: false,
      logLevel: 'warn', directorId: 'lvs-1', haConfig: '/etc/director/ha.json', checksDir: '/etc/director/checks.d',
      checkUser: 'nobody', allowLocalChecks: true, checkRunner: '/run/director-checks/checks.sock',
    });
    expect(configAsFlags(cfg)).toMatchObject({ 'state-dir': '/var/lib/director', 'allow-origin': ['https://console.example:3000', 'http://127.0.0.1:3000'], 'tick-ms': '500', 'insecure-listen': false, 'checks-dir': '/etc/director/checks.d', 'allow-local-checks': true, 'check-runner': '/run/director-checks/checks.sock' });
  });

  it('an empty (all commented) file is a valid file that sets nothing', () => {
    expect(parseAgentConfig('agent.toml', '# listen = "127.0.0.1:9580"\n')).toEqual({});
  });

  it('every flag of `director agent` has a key', async () => {
    const t = io();
    await agent(['--help'], t.io);
    const flags = new Set([...t.out.join('').matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]));
    flags.delete('config');
    const keys = new Set(Object.keys(configAsFlags(parseAgentConfig('x', GOOD.replace('listen =', '# listen =')))).concat(['listen', 'socket']));
    for (const f of flags) expect(keys, `--${f}`).toContain(f);
  });

  it('names an unknown key and its line', () => {
    expect(() => parseAgentConfig('/etc/director/agent.toml', 'tickMs = 500\n\nlisen = "127.0.0.1:1"\n'))
      .toThrow(/^\/etc\/director\/agent\.toml:3: lisen: unknown key \(known keys: listen, /);
  });

  it('names the key, the line and the reason of a value of the wrong type or range', () => {
    expect(() => parseAgentConfig('a.toml', 'logLevel = "info"\ntickMs = "fast"\n')).toThrow(/^a\.toml:2: tickMs: .*number/);
    expect(() => parseAgentConfig('a.toml', '\n\n\ndestBudget = 0\n')).toThrow(/^a\.toml:4: destBudget: .*>=1/);
    expect(() => parseAgentConfig('a.toml', 'allowOrigins = [\n  "ftp://x",\n]\n')).toThrow(/^a\.toml:1: allowOrigins\.0: each entry is an http\(s\) origin/);
    expect(() => parseAgentConfig('a.toml', 'stateDir = "var/lib"\n')).toThrow(/^a\.toml:1: stateDir: must be an absolute path/);
    expect(() => parseAgentConfig('a.toml', 'tlsCert = "/x.crt"\n')).toThrow(/^a\.toml:1: tlsCert: tlsCert and tlsKey go together/);
    expect(() => parseAgentConfig('a.toml', '[listen]\nport = 1\n')).toThrow(/^a\.toml:1: listen: /);
    expect(() => parseAgentConfig('a.toml', 'checkUser = "root; rm"\n')).toThrow(/^a\.toml:1: checkUser: a user name .* or uid:gid/);
    expect(parseAgentConfig('a.toml', 'checkUser = "65534:65534"\n')).toEqual({ checkUser: '65534:65534' });
  });

  it('names the line and column of a TOML syntax error', () => {
    expect(() => parseAgentConfig('a.toml', 'tickMs = 500\nlisten = "127.0.0.1:1\n')).toThrow(/^a\.toml:2:\d+: not valid TOML: /);
  });

  it('says plainly that a file is missing or is a folder', () => {
    expect(() => loadAgentConfig(path.join(dir, 'nope.toml'))).toThrow(/nope\.toml: cannot read the configuration: no such file$/);
    mkdirSync(path.join(dir, 'folder.toml'));
    expect(() => loadAgentConfig(path.join(dir, 'folder.toml'))).toThrow(/folder\.toml: cannot read the configuration: is a folder/);
  });

  it('uses --config when given, else the default file only when it exists', () => {
    expect(agentConfigPath('/x.toml', () => false)).toBe('/x.toml');
    expect(agentConfigPath(undefined, () => true)).toBe(DEFAULT_AGENT_CONFIG);
    expect(agentConfigPath(undefined, () => false)).toBeNull();
  });

  it('finds keys under tables and dotted keys', () => {
    const text = 'a = 1\n[tls]\ncert = "x"\n[b.c]\n"d" . e = 2\n';
    expect(lineOfKey(text, ['tls', 'cert'])).toBe(3);
    expect(lineOfKey(text, ['b', 'c', 'd', 'e'])).toBe(5);
    expect(lineOfKey(text, ['zz'])).toBeUndefined();
  });
});

describe('director agent --config', () => {
  it('refuses a bad file before touching the kernel, naming file, line and key', async () => {
    const t = io();
    expect(await agent(['--config', file('bad.toml', 'tickMs = 5\n')], t.io)).toBe(2);
    expect(t.err.join('')).toMatch(/configuration error:\n.*bad\.toml:1: tickMs: .*>=100/);
  });

  it('refuses a missing --config file', async () => {
    const t = io();
    expect(await agent(['--config', path.join(dir, 'missing.toml')], t.io)).toBe(2);
    expect(t.err.join('')).toMatch(/missing\.toml: cannot read the configuration: no such file/);
  });

  it('applies the file (a LAN address without TLS is refused as with the flag)', async () => {
    const t = io();
    expect(await agent(['--config', file('lan.toml', 'listen = "0.0.0.0:9580"\n')], t.io)).toBe(2);
    expect(t.err.join('')).toMatch(/without TLS/);
  });

  it('hands the health-check keys to the agent (checkUser = "root" is refused as --check-user root is)', async () => {
    const t = io();
    expect(await agent(['--config', file('root.toml', 'checkUser = "root"\n')], t.io)).toBe(2);
    expect(t.err.join('')).toContain('--check-user: misc-check scripts must not run as root');
  });

  it('lets a flag win over its key', async () => {
    const t = io();
    expect(await agent(['--config', file('tick.toml', 'tickMs = 500\n'), '--tick-ms', '7'], t.io)).toBe(2);
    expect(t.err.join('')).toContain("--tick-ms must be an integer from 100 to 60000, got '7'");
    // --socket replaces the file's listen rather than clashing with it
    const u = io();
    expect(await agent(['--config', file('sock.toml', 'listen = "127.0.0.1:9580"\ntickMs = 5000\n'), '--socket', '/tmp/x.sock', '--tick-ms', '1'], u.io)).toBe(2);
    expect(u.err.join('')).not.toContain('not both');
  });
});
