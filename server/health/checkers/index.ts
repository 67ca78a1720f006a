/** Runs one configured check against one real server. */
import type { DestinationSpec } from '@/lib/ipvs/model';
import { checkTarget, type Check, type ResolvedTiming } from '@/lib/schemas/health';
import { httpCheck } from './http';
import { miscCheck } from './misc';
import { tcpCheck } from './tcp';
import type { CheckResult } from './types';

export type { CheckResult, CheckTarget } from './types';

export function runCheck(dest: DestinationSpec, check: Check, timing: ResolvedTiming, signal?: AbortSignal): Promise<CheckResult> {
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
      return miscCheck(target, { command: check.command, timeoutMs: (check.timeoutSec ?? timing.delayLoop) * 1000, dynamic: check.dynamic, signal });
  }
}
