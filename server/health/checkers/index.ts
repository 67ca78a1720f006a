/** Runs one configured check against one real server. */
import type { DestinationSpec } from '@/lib/ipvs/model';
import { checkTarget, type Check, type ResolvedTiming } from '@/lib/schemas/health';
import { httpCheck } from './http';
import type { MiscCheckOptions } from './misc';
import { tcpCheck } from './tcp';
import type { CheckResult, CheckTarget } from './types';

export type { CheckResult, CheckTarget } from './types';

export type RunCheck = (dest: DestinationSpec, check: Check, timing: ResolvedTiming, signal?: AbortSignal) => Promise<CheckResult>;

/** What runs misc checks: the agent's own MiscRunner (setpriv) or the separate check runner's client. */
export interface MiscExecutor {
  run(target: CheckTarget, o: MiscCheckOptions): Promise<CheckResult>;
}

/** The checkers, with misc checks going through the agent's one runner (its folder, user and cap on concurrent runs). */
export function makeRunCheck(misc: MiscExecutor | null): RunCheck {
  return (dest, check, timing, signal) => {
    const target = checkTarget(dest, check);
    const connectTimeoutMs = timing.connectTimeout * 1000;
    switch (check.type) {
      case 'http':
        return httpCheck(target, {
          urls: check.urls, tls: check.tls, connectTimeoutMs, signal,
          ...(check.virtualhost ? { virtualhost: check.virtualhost } : {}),
        });
      case 'tcp':
        return tcpCheck(target, { connectTimeoutMs, signal });
      case 'misc':
        if (!misc) return Promise.resolve({ ok: false, message: 'misc checks are not available on this agent', durationMs: 0 });
        return misc.run(target, { script: check.script, timeoutMs: (check.timeoutSec ?? timing.delayLoop) * 1000, dynamic: check.dynamic, ...(signal ? { signal } : {}) });
    }
  };
}
