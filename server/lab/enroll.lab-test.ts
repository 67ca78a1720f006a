/**
 * A director and a console on two hosts, as an operator sets them up: the
 * agent runs inside the lab kernel on its tap address with TLS, the console
 * (this host) enrolls it with the code the director printed, then reads the
 * kernel's IPVS table over the tap through the pinned certificate.
 *
 *   host (console, CA)  169.254.152.1/30 ── tap dirtls0 ── 169.254.152.2 guest (agent, https :9580)
 *
 * Its own tap (not the lab's 169.254.150.0/24 nor the HA test's 169.254.151.0/30), so it can run beside `npm start`.
 * Needs root (tap link) and the lab kernel, like the other lab tests:
 *   npx vitest run --config vitest.lab-start.config.ts server/lab/enroll.lab-test.ts
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentsFile, AgentsStore } from '../../console/agents-store';
import type { AgentConfig } from '../../console/config';
import { forwardHttp, parseTrpcPath } from '../../console/proxy';
import { runCli } from '../cli/main';
import { initCa, issueAgentCert } from '../pki/pki';
import { bundleAgent } from './bundle';
import { runInLab, type TapLink } from './uml';

const root = path.resolve(import.meta.dirname, '../..');
const canRun = process.getuid?.() === 0 && existsSync('/usr/bin/linux.uml');
if (!canRun) console.warn('enroll lab test skipped: needs root and /usr/bin/linux.uml (apt-get install -y user-mode-linux)');

const TAP: TapLink = { name: 'dirtls0', hostAddress: '169.254.152.1', guestAddress: '169.254.152.2', prefix: 30 };
const AGENT_URL = `https://${TAP.guestAddress}:9580`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function director(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await runCli(args, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, readStdin: async () => '' });
  return { code, out, err };
}

async function viaConsole(agent: AgentConfig, proc: string): Promise<{ status: number; body: string }> {
  const s = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://c');
    const t = parseTrpcPath(u.pathname);
    if (!t) return res.writeHead(404).end();
    forwardHttp(req, res, agent, { sid: 'lab', user: 'lab-test', role: 'viewer' }, t.rest, u.search);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  try {
    const r = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/api/trpc/${agent.id}/${proc}`);
    return { status: r.status, body: await r.text() };
  } finally {
    s.closeAllConnections();
    s.close();
  }
}

describe.skipIf(!canRun)('enrollment across the tap: agent in the lab kernel, console on the host', () => {
  let tmp = '';
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('the console enrolls the director with its code and reads its kernel table over pinned TLS; a wrong pin is refused', async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'director-enroll-lab-'));
    const bundle = await bundleAgent(root);
    let outDir = '';
    let output = '';
    const abort = new AbortController();
    const guest = runInLab({
      // the director: a service to find, the agent with TLS on the tap address, then the one-time code
      command: ['bash', '-c', `set -e
ipvsadm -A -t 10.88.0.1:80 -s rr
node --no-memory-reducer ${bundle} --listen ${TAP.guestAddress}:9580 --tls-cert /run/out/tls/agent.crt --tls-key /run/out/tls/agent.key --state-dir /tmp/agent-state > /run/out/agent.log 2>&1 &
for i in $(seq 1 900); do grep -q 'listening on' /run/out/agent.log && break; sleep 0.2; done
node ${bundle} enroll --url ${AGENT_URL} --tls-cert /run/out/tls/agent.crt --state-dir /tmp/agent-state > /run/out/code.tmp
mv /run/out/code.tmp /run/out/code
echo enroll-code-written
while [ ! -e /run/out/done ]; do sleep 0.2; done
kill %1; wait || true`],
      cwd: root,
      tap: TAP,
      memoryMb: 512,
      timeoutMs: 600_000,
      signal: abort.signal,
      onPrepared: ({ outDir: o }) => { outDir = o; },
      onOutput: (c) => { output = (output + c).slice(-20_000); },
    });
    try {
      // the console host's CA issues the director's certificate (copied to it: here, its /run/out)
      while (!outDir) await sleep(50);
      await initCa({ dir: path.join(tmp, 'pki') });
      const leaf = await issueAgentCert({ caDir: path.join(tmp, 'pki'), name: 'lvs1', ips: [TAP.guestAddress], outDir: path.join(outDir, 'tls') });

      const t0 = Date.now();
      const codeFile = path.join(outDir, 'code');
      while (!existsSync(codeFile)) {
        if (Date.now() - t0 > 480_000) throw new Error(`no enrollment code from the guest:\n${output}`);
        await sleep(500);
      }
      const code = readFileSync(codeFile, 'utf8').trim();
      const agentLog = readFileSync(path.join(outDir, 'agent.log'), 'utf8');
      expect(agentLog, `the agent in the guest did not start:\n${agentLog}\n${output}`).toContain(`listening on ${AGENT_URL}`);

      const add = await director('console', 'add-agent', code, '--name', 'lvs1', '--state-dir', path.join(tmp, 'console'));
      expect(add.err).toBe('');
      expect(add.out).toContain(`enrolled director 'lvs1' (id lvs1) at ${AGENT_URL}, certificate ${leaf.fingerprint}`);
      // the code is spent
      const again = await director('console', 'add-agent', code, '--state-dir', path.join(tmp, 'console2'));
      expect(again.err).toContain('this enrollment code is unknown or was already used');

      const stored = new AgentsStore(agentsFile(path.join(tmp, 'console'))).list()[0]!;
      const agent: AgentConfig = { id: stored.id, name: stored.name, url: stored.url, fingerprint: stored.fingerprint, viewerToken: stored.viewerToken, operatorToken: stored.operatorToken, trpcPath: '/trpc', wsPath: '/trpc-ws' };
      const r = await viaConsole(agent, 'services.list');
      expect(r.status, r.body).toBe(200);
      expect(r.body).toContain('10.88.0.1');

      const wrong = leaf.fingerprint.startsWith('AA') ? `BB${leaf.fingerprint.slice(2)}` : `AA${leaf.fingerprint.slice(2)}`;
      const bad = await viaConsole({ ...agent, fingerprint: wrong }, 'services.list');
      expect(bad.status).toBe(502);
      expect(bad.body).toContain(`agent lvs1 at ${AGENT_URL}: certificate fingerprint ${leaf.fingerprint} does not match the pinned ${wrong}`);
      console.log(`enroll lab test: code after ${((Date.now() - t0) / 1000).toFixed(1)} s of boot and agent start`);
    } finally {
      if (outDir) writeFileSync(path.join(outDir, 'done'), '');
      const res = await Promise.race([guest, sleep(60_000).then(() => null)]);
      if (!res) abort.abort();
    }
  });
});
