/**
 * `director pki init`, `director agent cert` and `director agent enroll` as
 * commands: defaults from agent.toml, files and modes, clear refusals.
 */
import { chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeCode } from '@/lib/enroll/code';
import { director } from './testing';
import { defaultUrl, parseTtl } from './agent-tls';
import { AgentsStore, agentsFile } from '../../console/agents-store';
import { createEnrollment } from '../api/enroll';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'director-agent-tls-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});


describe('director pki / agent cert / agent enroll', () => {
  it('init, cert, then enroll with every default taken from agent.toml', async () => {
    expect((await director('pki', 'init', '--dir', `${dir}/pki`)).code).toBe(0);
    const cert = await director('agent', 'cert', '--ca-dir', `${dir}/pki`, '--name', 'lvs1', '--ip', '192.168.150.2', '--out', `${dir}/tls`);
    expect(cert.code, cert.err).toBe(0);
    const fp = /fingerprint: (\S+)/.exec(cert.out)![1]!;
    expect((await stat(`${dir}/tls/agent.key`)).mode & 0o777).toBe(0o600);
    expect((await stat(`${dir}/tls`)).mode & 0o777).toBe(0o755);

    await writeFile(`${dir}/agent.toml`, `listen = "192.168.150.2:9580"\ntlsCert = "${dir}/tls/agent.crt"\ntlsKey = "${dir}/tls/agent.key"\nstateDir = "${dir}/state"\n`);
    const r = await director('agent', 'enroll', '--config', `${dir}/agent.toml`, '--ttl', '2m');
    expect(r.code, r.err).toBe(0);
    const code = decodeCode(r.out.trim());
    expect(code.url).toBe('https://192.168.150.2:9580');
    expect(code.fingerprint).toBe(fp);
    expect(r.err).toContain('director console add-agent CODE');
    // the secret is on stdout only (the code); its file holds a digest and the expiry
    const files = await readdir(`${dir}/state/enroll`);
    expect(files).toHaveLength(1);
    const pending = JSON.parse(await readFile(`${dir}/state/enroll/${files[0]}`, 'utf8')) as { expiresAt: number; createdAt: number };
    expect(pending.expiresAt - pending.createdAt).toBe(120_000);
    expect(JSON.stringify(pending)).not.toContain(code.secret);
    expect(r.err).not.toContain(code.secret);
  });

  it('refuses what cannot work, saying why', async () => {
    expect((await director('agent', 'enroll', '--state-dir', dir, '--config', '/dev/null')).err).toMatch(/no TLS certificate: give --tls-cert/);
    expect((await director('agent', 'enroll', '--tls-cert', `${dir}/none.crt`, '--state-dir', dir, '--config', '/dev/null')).err).toMatch(/cannot read the certificate/);
    expect((await director('agent', 'cert', '--ca-dir', `${dir}/nope`, '--name', 'x', '--ip', '127.0.0.1', '--out', `${dir}/o`)).err).toMatch(/run 'director pki init/);
    expect((await director('agent', 'cert', '--self-signed', '--ca-dir', dir, '--ip', '127.0.0.1')).err).toMatch(/not both/);
    expect((await director('pki', 'make')).code).toBe(2);
    expect(() => parseTtl('10 minutes')).toThrow(/--ttl: expected a duration like 30s, 10m or 2h/);
    expect(parseTtl('10m')).toBe(600_000);
    expect(parseTtl('30')).toBe(30_000);
    expect(defaultUrl('[2001:db8::2]:9581')).toBe('https://[2001:db8::2]:9581');
  });

  it('--self-signed makes a private CA for one agent', async () => {
    const r = await director('agent', 'cert', '--self-signed', '--name', 'lvs2', '--ip', '127.0.0.1', '--out', `${dir}/tls`);
    expect(r.code, r.err).toBe(0);
    expect((await stat(`${dir}/tls/ca/ca.key`)).mode & 0o777).toBe(0o600);
    expect(r.out).toMatch(/fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
  });
});

describe.skipIf(process.getuid?.() !== 0)('run as root for a service user (skipped unless root: chown needs it)', () => {
  it('enroll files and the console\'s agents.json go to the owner of their state folder', async () => {
    await mkdir(`${dir}/state`, { mode: 0o700 });
    await chown(`${dir}/state`, 65534, 65534);
    await createEnrollment({ stateDir: `${dir}/state`, url: 'https://192.0.2.1:9580', fingerprint: Array(32).fill('AB').join(':') });
    const files = await readdir(`${dir}/state/enroll`);
    expect((await stat(`${dir}/state/enroll`)).uid).toBe(65534);
    expect((await stat(`${dir}/state/enroll/${files[0]}`)).uid).toBe(65534);

    await mkdir(`${dir}/console`, { mode: 0o700 });
    await chown(`${dir}/console`, 65534, 65534);
    const store = new AgentsStore(agentsFile(`${dir}/console`));
    store.add({ name: 'lvs1', url: 'https://192.0.2.1:9580', fingerprint: Array(32).fill('AB').join(':'), viewerToken: `viewer_${'a'.repeat(43)}`, operatorToken: `operator_${'b'.repeat(43)}`, credentialId: 'c1', enrolledAt: new Date().toISOString() });
    const st = await stat(agentsFile(`${dir}/console`));
    expect(st.uid).toBe(65534);
    expect(st.mode & 0o777).toBe(0o600);
  });
});

describe.skipIf(process.getuid?.() !== 0)('agent cert as root', () => {
  it('--key-owner gives the key (still 0600) to the agent\'s user; an unknown user is refused before anything is written', async () => {
    const r = await director('agent', 'cert', '--self-signed', '--name', 'lvs1', '--ip', '127.0.0.1', '--out', `${dir}/tls`, '--key-owner', 'nobody');
    expect(r.code, r.err).toBe(0);
    const st = await stat(`${dir}/tls/agent.key`);
    expect(st.uid).toBe(65534);
    expect(st.mode & 0o777).toBe(0o600);
    const bad = await director('agent', 'cert', '--self-signed', '--name', 'lvs1', '--ip', '127.0.0.1', '--out', `${dir}/tls2`, '--key-owner', 'no-such-user');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--key-owner: no user 'no-such-user'");
    await expect(stat(`${dir}/tls2`)).rejects.toThrow(/ENOENT/);
  });
});
