import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, issueAgentCert } from '../pki/pki';
import { agentListening, agentMutation, findLocalAgent } from './local-agent';

let dir: string;
let agentA: { cert: string; key: string; fingerprint: string };
let agentB: { cert: string; key: string; fingerprint: string };
let server: https.Server;
let port: number;
const seen: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'local-agent-'));
  await initCa({ dir: path.join(dir, 'ca') });
  agentA = await issueAgentCert({ caDir: path.join(dir, 'ca'), name: 'a', ips: ['127.0.0.1'], outDir: path.join(dir, 'a') });
  agentB = await issueAgentCert({ caDir: path.join(dir, 'ca'), name: 'b', ips: ['127.0.0.1'], outDir: path.join(dir, 'b') });
  // an agent stand-in that answers every call as tRPC does and records what reached it
  server = https.createServer({ cert: readFileSync(agentA.cert), key: readFileSync(agentA.key) }, (req, res) => {
    seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ result: { data: { journalId: 42 } } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('the local agent, as the CLI finds and calls it', () => {
  it('reads listen, stateDir and tlsCert from the agent configuration', () => {
    const cfg = path.join(dir, 'agent.toml');
    writeFileSync(cfg, `listen = "0.0.0.0:${port}"\nstateDir = "${dir}/state"\ntlsCert = "${agentA.cert}"\ntlsKey = "${agentA.key}"\n`);
    const t = findLocalAgent({ DIRECTOR_AGENT_CONFIG: cfg });
    expect(t).toEqual({
      label: `https://127.0.0.1:${port}`, host: '127.0.0.1', port,
      tokenFile: path.join(dir, 'state', 'tokens', 'operator.token'), pin: agentA.fingerprint,
    });
  });

  it('sends the token only to the pinned certificate', async () => {
    const target = { label: 'test', host: '127.0.0.1', port, token: 'operator_' + 'T'.repeat(40) };
    seen.length = 0;
    await expect(agentMutation({ ...target, pin: agentB.fingerprint }, 'stats.zero', {})).rejects.toMatchObject({ code: 'PIN_MISMATCH' });
    // not one request reached the server that presented another certificate
    expect(seen).toEqual([]);
    expect(await agentMutation({ ...target, pin: agentA.fingerprint }, 'stats.zero', {})).toEqual({ journalId: 42 });
    expect(seen).toEqual([`/trpc/stats.zero Bearer operator_${'T'.repeat(40)}`]);
  });

  it('tells a running agent from none', async () => {
    expect(await agentListening({ label: 't', host: '127.0.0.1', port })).toBe(true);
    const closed = https.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const free = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await agentListening({ label: 't', host: '127.0.0.1', port: free })).toBe(false);
    expect(await agentListening({ label: 't', socket: path.join(dir, 'no-such.sock') })).toBe(false);
  });
});
