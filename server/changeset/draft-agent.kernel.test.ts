/**
 * A change-set draft survives a restart of the `director agent` process itself (bin/director.mjs, as an
 * operator starts it): an edit staged over HTTP, SIGTERM (what systemd sends on a restart), the agent started
 * again over the same state folder answers the same draft, and it still applies to the kernel.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess } from '../cli/agent-process-testing';
import { ipvsadm, ipvsadmRestore, sh } from '../ipvs/kernel-test-helpers';
import { DRAFT_FILE } from './store';

const PORT = 9584;
const VIP = '10.78.0.1';

let dir: string;
let agent: AgentProcess | null = null;

/** One tRPC call over HTTP with the operator token; the reply's data, or throws with the agent's message. */
async function call<T>(procedure: string, input: unknown, method: 'GET' | 'POST'): Promise<T> {
  const token = readFileSync(path.join(dir, 'state/tokens/operator.token'), 'utf8').trim();
  const url = `http://127.0.0.1:${PORT}/trpc/${procedure}${method === 'GET' ? `?input=${encodeURIComponent(JSON.stringify(input))}` : ''}`;
  const res = await fetch(url, {
    method, headers: { authorization: `Bearer ${token}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { body: JSON.stringify(input) } : {}),
  });
  const body = await res.json() as { result?: { data: T }; error?: { message: string } };
  if (body.error) throw new Error(`${procedure}: ${body.error.message}`);
  return body.result!.data;
}
type Draft = { rev: number; edits: { id: number; text: string; by: string }[]; diff: string };

beforeAll(() => {
  sh('ipvsadm -C');
  ipvsadmRestore(`-A -t ${VIP}:80 -s rr\n-a -t ${VIP}:80 -r 172.31.3.1:80 -g -w 1\n-a -t ${VIP}:80 -r 172.31.3.2:80 -g -w 1\n`);
  dir = mkdtempSync(path.join(tmpdir(), 'draft-agent-'));
});

afterAll(async () => {
  if (agent?.running) await agent.stop();
  sh('ipvsadm -C');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the change-set draft across a restart of the agent process', () => {
  it('the restarted agent answers the draft the first one kept, and applies it', async () => {
    const first = (agent = await AgentProcess.start(PORT, path.join(dir, 'state')));
    const edit = { op: 'destination.update', service: { kind: 'addr', family: 'inet', protocol: 'tcp', address: VIP, port: 80 }, destination: { family: 'inet', address: '172.31.3.2', port: 80 }, patch: { weight: 7 } };
    await call('changesets.stage', { edit }, 'POST');
    const before = await call<Draft>('changesets.get', { others: null }, 'GET');
    expect(before.edits.map((e) => e.text)).toEqual([`edit real server 172.31.3.2:80 of TCP ${VIP}:80: weight 7`]);
    expect(statSync(path.join(dir, 'state', DRAFT_FILE)).mode & 0o777).toBe(0o600);
    expect(await first.stop()).not.toBe(-1);

    (agent = await AgentProcess.start(PORT, path.join(dir, 'state')));
    const after = await call<Draft>('changesets.get', { others: null }, 'GET');
    expect(after.rev).toBe(before.rev);
    expect(after.edits).toEqual(before.edits);
    expect(after.diff).toBe(before.diff);
    // the kernel was not touched by staging; applying the restored draft changes it
    expect(ipvsadm('-Sn')).toMatch(/-r 172\.31\.3\.2:80 -g -w 1/);
    await call('changesets.commit', { rev: after.rev }, 'POST');
    expect(ipvsadm('-Sn')).toMatch(/-r 172\.31\.3\.2:80 -g -w 7/);
    expect((await call<Draft>('changesets.get', { others: null }, 'GET')).edits).toEqual([]);
  }, 240_000);
});
