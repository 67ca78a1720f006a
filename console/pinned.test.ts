/**
 * The pin is checked before a request is written: a server with another
 * certificate receives no request at all (so never the bearer token), and a
 * keep-alive agent checks every new connection.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initCa, issueAgentCert } from '../server/pki/pki';
import { PinMismatch, pinnedAgent } from './pinned';

let dir: string;
let server: https.Server;
let url: string;
let fp: string;
const seen: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'director-pin-'));
  await initCa({ dir: path.join(dir, 'pki') });
  const leaf = await issueAgentCert({ caDir: path.join(dir, 'pki'), name: 'lvs1', ips: ['127.0.0.1'], outDir: path.join(dir, 'tls') });
  fp = leaf.fingerprint;
  server = https.createServer({ cert: await readFile(leaf.cert), key: await readFile(leaf.key) }, (req, res) => {
    seen.push(String(req.headers.authorization));
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

function get(agent: https.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    https.get(`${url}/x`, { agent, headers: { authorization: 'Bearer secret-token' } }, (res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve(b));
    }).on('error', reject);
  });
}

it('the right pin connects (and keeps the connection alive); a wrong pin sends nothing', async () => {
  const good = pinnedAgent({ label: 'agent lvs1', url, fingerprint: fp });
  expect(await get(good)).toBe('ok');
  expect(await get(good)).toBe('ok');
  good.destroy();
  expect(seen).toEqual(['Bearer secret-token', 'Bearer secret-token']);

  const wrongFp = fp.replace(/^../, fp.startsWith('00') ? '11' : '00');
  const bad = pinnedAgent({ label: 'agent lvs1', url, fingerprint: wrongFp });
  const err = await get(bad).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(PinMismatch);
  expect((err as Error).message).toBe(
    `agent lvs1 at ${url}: certificate fingerprint ${fp} does not match the pinned ${wrongFp}; refusing to talk to it ` +
      '(re-enroll the director if its certificate was replaced on purpose)',
  );
  bad.destroy();
  expect(seen).toHaveLength(2);
});
