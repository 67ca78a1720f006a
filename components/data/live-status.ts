'use client';
import { useSyncExternalStore } from 'react';

/**
 * The state of the live (WebSocket) link of the director on screen, fed by the
 * tRPC ws client's open/close callbacks, read by the header indicator.
 */
export type LiveState =
  | { kind: 'idle' }
  | { kind: 'connecting' }
  | { kind: 'live'; since: number }
  | { kind: 'reconnecting'; attempt: number; retryAt: number };

let state: LiveState = { kind: 'idle' };
const listeners = new Set<() => void>();

export function setLiveState(next: LiveState): void {
  state = next;
  for (const l of listeners) l();
}

export function getLiveState(): LiveState {
  return state;
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

const idle: LiveState = { kind: 'idle' };

export function useLiveState(): LiveState {
  return useSyncExternalStore(subscribe, getLiveState, () => idle);
}
