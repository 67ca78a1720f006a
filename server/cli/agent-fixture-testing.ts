/** For CLI command tests: an agent on 127.0.0.1 over the stateful fake kernel, and the target a command is given. */
import { Auth } from '../api/auth';
import { startAgentServer } from '../api/server';
import { makeDeps, silentLog } from '../api/testing';
import type { AgentTarget } from './local-agent';

export const FIXTURE_TOKENS = { viewer: 'viewer_' + 'v'.repeat(40), operator: 'operator_' + 'o'.repeat(40) };

export async function fakeAgent(): Promise<{ deps: Awaited<ReturnType<typeof makeDeps>>; target: AgentTarget; close: () => Promise<void> }> {
  const deps = await makeDeps();
  const srv = await startAgentServer({ deps, auth: Auth.fromTokens(FIXTURE_TOKENS, silentLog), listen: { host: '127.0.0.1', port: 0 }, allowOrigins: [] });
  const u = new URL(srv.url);
  return {
    deps,
    target: { label: srv.url, host: u.hostname, port: Number(u.port), token: FIXTURE_TOKENS.operator },
    close: async () => { await srv.close(); deps.hub.close(); },
  };
}
