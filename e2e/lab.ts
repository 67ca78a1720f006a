/**
 * What the specs know about the running lab (written by global-setup.ts) and
 * a typed tRPC client to its agent. Tests reach the agent only on the tap
 * address; 192.168.150.x exists only inside the lab kernel.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createTRPCClient, httpBatchLink, type TRPCClient } from '@trpc/client';
import type { LabAppRouter as AppRouter } from '../server/lab/app-router';

export interface LabInfo {
  consoleUrl: string;
  agentUrl: string;
  operatorToken: string;
  viewerToken: string;
  signIn: { username: string; password: string };
  viewerSignIn?: { username: string; password: string } | null;
  adminSignIn?: { username: string; password: string } | null;
}

export const LAB_INFO = path.resolve(import.meta.dirname, '..', 'test-results', 'e2e-lab.json');
export const SCREENS = path.resolve(import.meta.dirname, '..', 'test-results', 'e2e', 'screens');

let cached: LabInfo | null = null;
export function labInfo(): LabInfo {
  if (!cached) {
    const info = JSON.parse(readFileSync(LAB_INFO, 'utf8')) as LabInfo;
    if (!info.agentUrl.startsWith('http://169.254.150.2:')) {
      throw new Error(`e2e: the agent must be on the lab's tap address, got ${info.agentUrl}`);
    }
    cached = info;
  }
  return cached;
}

let client: TRPCClient<AppRouter> | null = null;
/** The agent as operator, over its HTTP tRPC endpoint on the tap link. */
export function agent(): TRPCClient<AppRouter> {
  if (!client) {
    const info = labInfo();
    client = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: `${info.agentUrl}/trpc`, maxItems: 16, headers: () => ({ authorization: `Bearer ${info.operatorToken}` }) })],
    });
  }
  return client;
}

/** Runs the lab director's real ipvsadm; throws with its stderr unless it exits 0. */
export async function ipvsadm(...args: string[]): Promise<string> {
  const r = await agent().lab.ipvsadm.mutate({ args });
  if (r.status !== 0) throw new Error(`ipvsadm ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** `ipvsadm -Sn` as lines (the save format, one rule a line). */
export async function savedRules(): Promise<string[]> {
  return (await ipvsadm('-Sn')).split('\n').filter((l) => l.trim() !== '');
}

/** Polls `fn` until it returns a non-null value (the lab kernel is slow; conditions, not sleeps). */
export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 30_000, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v !== null && v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`e2e: ${what} did not happen within ${timeoutMs / 1000} s${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
