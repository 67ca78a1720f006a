/**
 * The console asking an agent for the ZooKeeper registry (ha.registry) over
 * the same pinned TLS the proxy uses, with the console's operator token for
 * that agent. The answer carries enrollment codes: it stays on the server.
 */
import http from 'node:http';
import https from 'node:https';
import { registryListingSchema, type RegistryListing } from '../lib/enroll/registry';
import type { AgentConfig } from './config';
import { agentFor } from './proxy';

const MAX_ANSWER = 1024 * 1024;

export async function askRegistry(agent: AgentConfig): Promise<RegistryListing> {
  if (!agent.operatorToken) throw new Error('the console holds no operator token for it');
  const target = new URL(`${agent.url}${agent.trpcPath}/ha.registry`);
  const lib = target.protocol === 'https:' ? https : http;
  const via = agentFor(agent);
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = lib.request(target, {
      method: 'GET', timeout: 10_000, headers: { authorization: `Bearer ${agent.operatorToken}`, accept: 'application/json' },
      ...(via ? { agent: via } : {}),
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        if (body.length > MAX_ANSWER) res.destroy(new Error('answer too large'));
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end();
  });
  type Answer = { result?: { data?: unknown }; error?: { message?: unknown; data?: { code?: unknown } } };
  let j: Answer | null;
  try {
    j = JSON.parse(text) as Answer | null;
  } catch {
    j = null; // said below
  }
  if (status !== 200) {
    const e = new Error(typeof j?.error?.message === 'string' ? j.error.message.slice(0, 300) : `HTTP ${status}`) as Error & { code?: string };
    if (typeof j?.error?.data?.code === 'string') e.code = j.error.data.code;
    throw e;
  }
  const r = registryListingSchema.safeParse(j?.result?.data);
  if (!r.success) throw new Error('its registry answer is not understood');
  return r.data;
}
