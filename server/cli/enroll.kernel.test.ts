/**
 * From a bare director to a console reading it over pinned TLS, with the
 * `director` command as an operator types it: the packaged one (the .deb that
 * `npm run package` last built, unpacked, run from / with Debian's node alone)
 * when there is one, else bin/director.mjs; the agent on the lab kernel's real
 * IPVS table:
 *
 *   director pki init            → CA (console host)
 *   director agent cert          → agent.crt/agent.key for 127.0.0.1
 *   director agent --tls-…       → agent on https://127.0.0.1:PORT
 *   director agent enroll        → one-time code
 *   director console add-agent   → the console's own credential, pinned fingerprint, in agents.json
 *   console proxy (console/proxy.ts) reads services.list through the pin;
 *   a second add-agent with the same code, and a wrong pin, are refused with clear messages.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentsFile, AgentsStore } from '../../console/agents-store';
import type { AgentConfig } from '../../console/config';
import { forwardHttp, parseTrpcPath } from '../../console/proxy';
import { ipvsadm } from '../ipvs/kernel-test-helpers';

const ROOT = path.resolve(import.meta.dirname, '../..');
const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const arch = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout?.trim() ?? '';
const DEB = path.join(ROOT, 'dist', `director_${version}_${arch}.deb`);
/** argv prefix that runs `director` */
let BIN: string[] = [process.execPath, path.join(ROOT, 'bin/director.mjs')];
let binLabel = 'bin/director.mjs';
/** Debian's PATH and nothing else: no npm, no checkout variables */
const CLEAN_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } as unknown as NodeJS.ProcessEnv;
const PORT = 19580;
const URL_ = `https://127.0.0.1:${PORT}`;

let dir: string;
let agentProc: ChildProcess | null = null;
let agentErr = '';
const timings: Record<string, number> = {};

function director(label: string, ...args: string[]): { code: number; out: string; err: string } {
  const t0 = Date.now();
  const r = spawnSync(BIN[0]!, [...BIN.slice(1), ...args], { encoding: 'utf8', cwd: '/', env: CLEAN_ENV, timeout: 60_000 });
  timings[label] = Date.now() - t0;
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

async function consoleProxy(agent: AgentConfig): Promise<{ url: string; close: () => void }> {
  const s = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://c');
    const t = parseTrpcPath(u.pathname);
    if (!t) return res.writeHead(404).end();
    forwardHttp(req, res, agent, { sid: 'test', user: 'tester', role: 'viewer' }, t.rest, u.search);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, close: () => { s.closeAllConnections(); s.close(); } };
}

function storedAsConfig(a: ReturnType<AgentsStore['list']>[number]): AgentConfig {
  return { id: a.id, name: a.name, url: a.url, fingerprint: a.fingerprint, viewerToken: a.viewerToken, operatorToken: a.operatorToken, trpcPath: '/trpc', wsPath: '/trpc-ws' };
}

describe('enrollment and pinned TLS with the director command', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'director-enroll-k-'));
    if (existsSync(DEB)) {
      const x = path.join(dir, 'root');
      const u = spawnSync('dpkg', ['-x', DEB, x], { encoding: 'utf8' });
      expect(u.stderr).toBe('');
      // the packaged launcher, pointed at the unpacked tree instead of /usr/lib/director
      const launcher = path.join(dir, 'director');
      writeFileSync(launcher, readFileSync(path.join(x, 'usr/bin/director'), 'utf8').replaceAll('/usr/lib/director/', `${x}/usr/lib/director/`), { mode: 0o755 });
      BIN = [launcher];
      binLabel = path.relative(ROOT, DEB);
    }
    ipvsadm('-C');
    ipvsadm('-A', '-t', '10.77.0.1:80', '-s', 'rr');
  });
  afterAll(async () => {
    if (agentProc && agentProc.exitCode === null) {
      agentProc.kill('SIGTERM');
      await new Promise((r) => agentProc!.once('exit', r));
    }
    ipvsadm('-C');
    await rm(dir, { recursive: true, force: true });
    console.log(`director from ${binLabel}; timings (ms): ${JSON.stringify(timings)}`);
  });

  it('pki init, agent cert, a TLS agent, enroll, add-agent, and the console reads through the pin', async () => {
    let r = director('pki init', 'pki', 'init', '--dir', `${dir}/pki`);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    r = director('agent cert', 'agent', 'cert', '--ca-dir', `${dir}/pki`, '--name', 'lvs1', '--ip', '127.0.0.1', '--out', `${dir}/tls`);
    expect(r.code, r.err).toBe(0);
    const fingerprint = /fingerprint: (\S+)/.exec(r.out)![1]!;

    const t0 = Date.now();
    agentProc = spawn(BIN[0]!, [...BIN.slice(1), 'agent', '--listen', `127.0.0.1:${PORT}`, '--tls-cert', `${dir}/tls/agent.crt`, '--tls-key', `${dir}/tls/agent.key`,
      '--state-dir', `${dir}/state`, '--log-level', 'info'], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], env: CLEAN_ENV });
    agentProc.stdout!.on('data', (c) => (agentErr += String(c)));
    await new Promise<void>((resolve, reject) => {
      agentProc!.stderr!.on('data', (c) => {
        agentErr += String(c);
        if (agentErr.includes('listening on')) resolve();
      });
      agentProc!.once('exit', (code) => reject(new Error(`agent exited (${code}): ${agentErr}`)));
    });
    timings['agent start'] = Date.now() - t0;
    expect(agentErr).toContain(`listening on ${URL_}`);

    r = director('agent enroll', 'agent', 'enroll', '--url', URL_, '--tls-cert', `${dir}/tls/agent.crt`, '--state-dir', `${dir}/state`, '--ttl', '5m');
    expect(r.code, r.err).toBe(0);
    const code = r.out.trim();
    expect(code).toMatch(/^director-enroll-[A-Za-z0-9_-]+$/);

    r = director('console add-agent', 'console', 'add-agent', code, '--name', 'lvs1', '--state-dir', `${dir}/console`);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`enrolled director 'lvs1' (id lvs1) at ${URL_}, certificate ${fingerprint}`);

    const stored = new AgentsStore(agentsFile(`${dir}/console`)).list();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.fingerprint).toBe(fingerprint);
    const c = await consoleProxy(storedAsConfig(stored[0]!));
    try {
      const res = await fetch(`${c.url}/api/trpc/lvs1/services.list`);
      const body = await res.text();
      expect(res.status, body).toBe(200);
      expect(body).toContain('10.77.0.1');
    } finally {
      c.close();
    }

    // the code works once
    r = director('add-agent again', 'console', 'add-agent', code, '--name', 'again', '--state-dir', `${dir}/console2`);
    expect(r.code).toBe(1);
    expect(r.err).toContain('refused the code: this enrollment code is unknown or was already used');
    // the secret and the issued tokens are nowhere in the agent's output
    const secret = JSON.parse(Buffer.from(code.slice('director-enroll-'.length), 'base64url').toString()).secret as string;
    expect(agentErr).toContain('console enrolled');
    expect(agentErr).not.toContain(secret);
    expect(agentErr).not.toContain(stored[0]!.viewerToken);
  });

  it('a wrong pinned fingerprint is refused with a message naming both fingerprints', async () => {
    const file = agentsFile(`${dir}/console`);
    const list = JSON.parse(await readFile(file, 'utf8')) as { fingerprint: string }[];
    const real = list[0]!.fingerprint;
    const wrong = real.startsWith('AA') ? `BB${real.slice(2)}` : `AA${real.slice(2)}`;
    list[0]!.fingerprint = wrong;
    await writeFile(file, JSON.stringify(list));
    const stored = new AgentsStore(file).list();
    const c = await consoleProxy(storedAsConfig(stored[0]!));
    try {
      const res = await fetch(`${c.url}/api/trpc/lvs1/services.list`);
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { message: string } }).error.message)
        .toContain(`agent lvs1 at ${URL_}: certificate fingerprint ${real} does not match the pinned ${wrong}`);
    } finally {
      c.close();
    }
    // and a code carrying a wrong fingerprint never hands its secret over
    let r = director('agent enroll 2', 'agent', 'enroll', '--url', URL_, '--tls-cert', `${dir}/tls/agent.crt`, '--state-dir', `${dir}/state`);
    const body = JSON.parse(Buffer.from(r.out.trim().slice('director-enroll-'.length), 'base64url').toString()) as Record<string, string>;
    const forged = 'director-enroll-' + Buffer.from(JSON.stringify({ ...body, fingerprint: wrong })).toString('base64url');
    r = director('add-agent forged', 'console', 'add-agent', forged, '--state-dir', `${dir}/console3`);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`certificate fingerprint ${real} does not match the pinned ${wrong}`);
    // removal gives the credential back: the agent then refuses those tokens
    const keep = stored[0]!;
    list[0]!.fingerprint = real;
    await writeFile(file, JSON.stringify(list));
    r = director('console remove-agent', 'console', 'remove-agent', 'lvs1', '--state-dir', `${dir}/console`);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("its agent revoked the console's credential");
    const c2 = await consoleProxy({ ...storedAsConfig(keep), fingerprint: real });
    try {
      expect((await fetch(`${c2.url}/api/trpc/lvs1/services.list`)).status).toBe(401);
    } finally {
      c2.close();
    }
  });
});
