/**
 * The agent's resource limits on the lab kernel (issue 23 #3, "done when"):
 * a viewer's 64 MiB body is refused (413) within 1 s while /healthz keeps
 * answering and memory does not grow by the body; 1,500 exports sent at once
 * over one WebSocket are answered up to the in-flight limit and refused past
 * it, and the agent goes on.
 */
import http from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ipvsadmRestore } from '../ipvs/kernel-test-helpers';
import type { TableHub } from '../live/hub';
import { kernelAgent, type KernelAgent } from './kernel-agent-testing';
import { DEFAULT_LIMITS } from './limits';
import type { AgentServer } from './server';

const log = pino({ level: 'silent' });
const TOKENS = { viewer: 'viewer_' + 'k'.repeat(40), operator: 'operator_' + 'K'.repeat(40) };
const MiB = 1024 * 1024;

let agent: KernelAgent | undefined;
let hub: TableHub;
let srv: AgentServer;

beforeAll(async () => {
  const rules: string[] = [];
  for (let i = 0; i < 200; i++) {
    rules.push(`-A -t 192.168.172.${(i % 250) + 1}:${8000 + i} -s wlc`);
    for (let d = 1; d <= 4; d++) rules.push(`-a -t 192.168.172.${(i % 250) + 1}:${8000 + i} -r 192.168.173.${d}:80 -g -w 1`);
  }
  agent = await kernelAgent({ tokens: TOKENS, log, tickMs: 500, table: () => ipvsadmRestore(rules.join('\n') + '\n') });
  ({ hub, srv } = agent);
  await hub.sampleNow();
});

afterAll(() => agent?.close());

describe('limits on the lab kernel', () => {
  it("refuses a viewer's 64 MiB body with 413 within 1 s; /healthz keeps answering; memory does not take the body", async () => {
    const total = 64 * MiB;
    const rss0 = process.memoryUsage().rss;
    let done = false;
    let worstMs = 0;
    const poller = (async () => {
      let due = performance.now();
      while (!done) {
        const r = await fetch(`${srv.url}/healthz`);
        await r.text();
        expect(r.status).toBe(200);
        const now = performance.now();
        worstMs = Math.max(worstMs, now - due);
        due = now + 50;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    // the uploader shares this process and its loop (a node process started inside user-mode Linux costs
    // seconds of its one CPU, which slowed /healthz more than the upload did), so /healthz here also waits
    // for the uploader's own writes: the bound is loose (measured 0.6-1.8 s on a loaded host); the host
    // test (limits.test.ts) holds /healthz to 200 ms
    const result = await new Promise<{ status: number; ms: number }>((resolve) => {
      const t0 = performance.now();
      const req = http.request(`${srv.url}/trpc/snapshot.plan`, {
        method: 'POST', headers: { authorization: `Bearer ${TOKENS.viewer}`, 'content-type': 'application/json', 'content-length': String(total) },
      }, (res) => { res.resume(); resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }); });
      req.on('error', () => resolve({ status: -1, ms: performance.now() - t0 }));
      const chunk = Buffer.alloc(MiB, 'a');
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) { req.once('drain', pump); return; }
        }
        req.end();
      };
      pump();
    });
    await new Promise((r) => setTimeout(r, 300));
    done = true;
    await poller;
    const grew = process.memoryUsage().rss - rss0;
    console.log(`413 after ${Math.round(result.ms)} ms; /healthz worst ${Math.round(worstMs)} ms; RSS ${Math.round(process.memoryUsage().rss / MiB)} MiB (+${Math.round(grew / MiB)})`);
    expect(result.status).toBe(413);
    expect(result.ms).toBeLessThan(1000);
    expect(worstMs).toBeLessThan(5000);
    expect(grew).toBeLessThan(48 * MiB);
  }, 60_000);

  it('answers 1,500 exports sent at once over one WebSocket up to the in-flight limit, refuses the rest, and goes on', async () => {
    const ws = new WebSocket(srv.wsUrl!, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    const replies: { ok: boolean; code?: string }[] = [];
    const all = new Promise<void>((resolve) => {
      ws.on('message', (m) => {
        const r = JSON.parse(String(m)) as { error?: { data?: { code?: string } }; result?: unknown };
        replies.push({ ok: r.result !== undefined, ...(r.error ? { code: r.error.data?.code } : {}) });
        if (replies.length === 1500) resolve();
      });
    });
    const rss0 = process.memoryUsage().rss;
    for (let id = 1; id <= 1500; id++) ws.send(JSON.stringify({ id, method: 'query', params: { path: 'snapshot.export', input: { format: 'json' } } }));
    await all;
    const ok = replies.filter((r) => r.ok).length;
    console.log(`1,500 exports: ${ok} answered, ${replies.length - ok} refused; RSS +${Math.round((process.memoryUsage().rss - rss0) / MiB)} MiB`);
    expect(replies.filter((r) => r.code === 'TOO_MANY_REQUESTS').length).toBe(1500 - ok);
    expect(ok).toBeGreaterThanOrEqual(DEFAULT_LIMITS.roles.viewer.wsInFlight);
    expect(ok).toBeLessThan(100);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(100 * MiB);
    ws.close();
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  }, 60_000);
});
