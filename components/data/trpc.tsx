'use client';
/**
 * tRPC client per director. Created once per director id for the life of the
 * tab; subscriptions go over the console's WebSocket (/api/trpc-ws), the rest
 * over batched HTTP (/api/trpc/<id>). The browser never sees an agent address
 * or token: the console forwards both.
 */
import { createTRPCClient, createWSClient, httpBatchLink, httpLink, splitLink, wsLink, type TRPCClient } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
// the agent's API plus lab.*, which only agents the lab starts serve (others answer NOT_FOUND)
import type { LabAppRouter as AppRouter } from '@/server/lab/app-router';
import { AGENT_BATCH_CALLS } from '@/lib/agent/limits';
import { reconnectDelayMs } from './backoff';
import { setLiveState } from './live-status';

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter, { keyPrefix: true }>();

const clients = new Map<string, TRPCClient<AppRouter>>();

/**
 * A client over batched HTTP only, no socket: for the server render (Node 20
 * has no WebSocket) and for pages that read many directors (the fleet page).
 */
export function httpClient(directorId: string): TRPCClient<AppRouter> {
  const url = `/api/trpc/${encodeURIComponent(directorId)}`;
  return createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: typeof window === 'undefined' ? `http://127.0.0.1${url}` : url, maxItems: AGENT_BATCH_CALLS })] });
}

function buildClient(directorId: string): TRPCClient<AppRouter> {
  const httpUrl = `/api/trpc/${encodeURIComponent(directorId)}`;
  // Server render: nothing subscribes during SSR anyway.
  if (typeof window === 'undefined') return httpClient(directorId);
  let attempt = 0;
  setLiveState({ kind: 'connecting' });
  const ws = createWSClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/trpc-ws?director=${encodeURIComponent(directorId)}`,
    retryDelayMs: (i) => {
      attempt = i;
      const delay = reconnectDelayMs(i);
      setLiveState({ kind: 'reconnecting', attempt: i, retryAt: Date.now() + delay });
      return delay;
    },
    onOpen: () => {
      attempt = 0;
      setLiveState({ kind: 'live', since: Date.now() });
    },
    onClose: (cause) => {
      // 4401: the console ended this session (signed out elsewhere, user removed or role changed): sign in again.
      if (cause?.code === 4401) {
        window.location.assign('/login');
        return;
      }
      setLiveState({ kind: 'reconnecting', attempt, retryAt: Date.now() + reconnectDelayMs(attempt) });
    },
    keepAlive: { enabled: true, intervalMs: 10_000, pongTimeoutMs: 5_000 },
  });
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: ws }),
        // snapshot.plan's input is a whole snapshot: too long for a GET URL, so it goes as POST
        false: splitLink({
          condition: (op) => op.path === 'snapshot.plan',
          true: httpLink({ url: httpUrl, methodOverride: 'POST' }),
          false: httpBatchLink({ url: httpUrl, maxURLLength: 4000, maxItems: AGENT_BATCH_CALLS }),
        }),
      }),
    ],
  });
}

export function directorClient(directorId: string): TRPCClient<AppRouter> {
  let c = clients.get(directorId);
  if (!c) {
    c = buildClient(directorId);
    // Keep the server-side client out of the browser cache map.
    if (typeof window !== 'undefined') clients.set(directorId, c);
  }
  return c;
}

/** Everything under a director's pages talks to that director, with its own query-key prefix. */
export function DirectorTRPC({ directorId, children }: { directorId: string; children: ReactNode }) {
  const queryClient = useQueryClient();
  return (
    <TRPCProvider trpcClient={directorClient(directorId)} queryClient={queryClient} keyPrefix={directorId}>
      {children}
    </TRPCProvider>
  );
}
