/** TCP_CHECK: the server accepts a connection within the connect timeout. */
import net from 'node:net';
import { describeSocketError, seconds, type CheckResult, type CheckTarget } from './types';

export function tcpCheck(target: CheckTarget, opts: { connectTimeoutMs: number; signal?: AbortSignal }): Promise<CheckResult> {
  const started = performance.now();
  if (opts.signal?.aborted) return Promise.resolve({ ok: false, message: 'check cancelled', durationMs: 0 });
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.address, port: target.port, family: target.family === 'inet6' ? 6 : 4 });
    let done = false;
    const finish = (ok: boolean, message: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve({ ok, message, durationMs: performance.now() - started });
    };
    const timer = setTimeout(() => finish(false, `connect timeout after ${seconds(opts.connectTimeoutMs)}`), opts.connectTimeoutMs);
    const onAbort = () => finish(false, 'check cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(true, 'TCP connect ok'));
    socket.once('error', (e: NodeJS.ErrnoException) => finish(false, describeSocketError(e)));
  });
}
