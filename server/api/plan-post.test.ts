/**
 * snapshot.plan with a whole snapshot as input: too long for a GET URL, so the
 * console sends it as POST (methodOverride); the agent must accept that.
 */
import { createTRPCClient, httpLink } from '@trpc/client';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Auth } from './auth';
import type { AppRouter } from './router';
import { startAgentServer, type AgentServer } from './server';
import { makeDeps, silentLog } from './testing';

const TOKENS = { viewer: 'viewer_' + 'v'.repeat(40), operator: 'operator_' + 'o'.repeat(40) };
let srv: AgentServer;
let deps: Awaited<ReturnType<typeof makeDeps>>;

beforeEach(async () => {
  deps = await makeDeps();
  srv = await startAgentServer({ deps, auth: Auth.fromTokens(TOKENS, silentLog), listen: { host: '127.0.0.1', port: 0 }, allowOrigins: [] });
});
afterEach(async () => {
  await srv.close();
  deps.hub.close();
});

it('plans a 300-rule snapshot sent as a POST query, and still refuses it without a token', async () => {
  const text = Array.from({ length: 150 }, (_, i) => `-A -t 10.77.0.${i + 1}:80 -s rr\n-a -t 10.77.0.${i + 1}:80 -r 192.168.150.12:80 -g -w 1\n`).join('');
  expect(text.length).toBeGreaterThan(8000);
  const client = (token: string | null) => createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${srv.url}/trpc`, methodOverride: 'POST', headers: () => (token ? { authorization: `Bearer ${token}` } : {}) })],
  });
  const plan = await client(TOKENS.viewer).snapshot.plan.query({ format: 'ipvsadm', text, prune: false });
  expect(plan.ops).toHaveLength(300);
  await expect(client(null).snapshot.plan.query({ format: 'ipvsadm', text, prune: false })).rejects.toThrow(/token/);
  expect(await deps.fake.listServices()).toEqual([]);
});
