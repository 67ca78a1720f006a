/**
 * MISC_CHECK: an operator's command decides. Exit 0 = up, 1 = down; with
 * misc_dynamic, 2..255 = up with weight (status - 2), as keepalived. The
 * command learns its target from the environment, and is killed (with its
 * process group) when it outlives its timeout.
 */
import { spawn } from 'node:child_process';
import { seconds, type CheckResult, type CheckTarget } from './types';

export interface MiscCheckOptions {
  command: string;
  timeoutMs: number;
  dynamic: boolean;
  signal?: AbortSignal;
}

export function miscCheck(target: CheckTarget, o: MiscCheckOptions): Promise<CheckResult> {
  const started = performance.now();
  if (o.signal?.aborted) return Promise.resolve({ ok: false, message: 'check cancelled', durationMs: 0 });
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', o.command], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
      env: { ...process.env, DIRECTOR_RS_ADDRESS: target.address, DIRECTOR_RS_PORT: String(target.port) },
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { if (stderr.length < 500) stderr += d.toString(); });
    let done = false;
    const finish = (r: Omit<CheckResult, 'durationMs'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      resolve({ ...r, durationMs: performance.now() - started });
    };
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      kill();
      finish({ ok: false, message: `command timed out after ${seconds(o.timeoutMs)}` });
    }, o.timeoutMs);
    const onAbort = () => {
      kill();
      finish({ ok: false, message: 'check cancelled' });
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (e) => finish({ ok: false, message: `cannot run the command: ${e.message}` }));
    child.once('exit', (code, sig) => {
      const note = stderr.trim().split('\n')[0];
      if (code === null) return finish({ ok: false, message: `command killed by ${sig}` });
      if (code === 0) return finish({ ok: true, message: 'exit 0' });
      if (o.dynamic && code >= 2) return finish({ ok: true, message: `exit ${code} (weight ${code - 2})`, weight: code - 2 });
      finish({ ok: false, message: `exit ${code}${note ? `: ${note}` : ''}` });
    });
  });
}
