/**
 * The agent's side of the check runner (--check-runner): a misc check becomes
 * one request over the runner's unix socket, and its answer the same result
 * the direct path (../checkers/misc.ts) gives. A runner that is not there, or
 * answers nonsense, refuses the check: refused checks move nothing.
 */
import net from 'node:net';
import type { MiscCheckOptions } from '../checkers/misc';
import { seconds, type CheckResult, type CheckTarget } from '../checkers/types';
import { MAX_LINE, MAX_TIMEOUT_MS, runAnswerSchema, type RunAnswer } from './protocol';

/** Beyond the script's own timeout, how long the runner may take to say it killed it. */
const GRACE_MS = 2000;

export class RunnerClient {
  private nextId = 1;

  constructor(readonly socket: string) {}

  async run(target: CheckTarget, o: MiscCheckOptions): Promise<CheckResult> {
    const started = performance.now();
    const result = (r: Omit<CheckResult, 'durationMs'>): CheckResult => ({ ...r, durationMs: performance.now() - started });
    if (o.signal?.aborted) return result({ ok: false, message: 'check cancelled' });
    const id = this.nextId++;
    const req = { id, script: o.script, address: target.address, port: target.port, timeoutMs: Math.min(MAX_TIMEOUT_MS, Math.max(1, Math.round(o.timeoutMs))) };
    let a: RunAnswer;
    try {
      a = await this.ask(req, o.timeoutMs + GRACE_MS, o.signal);
    } catch (e) {
      const m = (e as Error).message;
      return result(m === 'check cancelled' ? { ok: false, message: m } : { ok: false, refused: true, message: m });
    }
    if ('refused' in a) {
      return result({ ok: false, refused: true, message: a.refused.startsWith('not run: ') || a.refused.startsWith('too many') ? a.refused : `not run: ${a.refused}` });
    }
    if (a.timedOut) return result({ ok: false, message: `script ${o.script} timed out after ${seconds(o.timeoutMs)}` });
    if (a.exitCode === undefined) return result({ ok: false, message: `script ${o.script} killed by ${a.signal ?? 'a signal'}` });
    const code = a.exitCode;
    if (code === 0) return result({ ok: true, message: 'exit 0' });
    if (o.dynamic && code >= 2) return result({ ok: true, message: `exit ${code} (weight ${code - 2})`, weight: code - 2 });
    return result({ ok: false, message: `exit ${code}${a.stderrFirstLine ? `: ${a.stderrFirstLine}` : ''}` });
  }

  private ask(req: { id: number }, limitMs: number, signal?: AbortSignal): Promise<RunAnswer> {
    return new Promise((resolve, reject) => {
      const sock = net.createConnection(this.socket);
      let buf = '';
      let settled = false;
      const finish = (err: Error | null, a?: RunAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        // hanging up also tells the runner to kill the script, if it still runs
        sock.destroy();
        if (err) reject(err);
        else resolve(a!);
      };
      const timer = setTimeout(() => finish(new Error(`misc check runner at ${this.socket} did not answer within ${seconds(limitMs)}`)), limitMs);
      const onAbort = () => finish(new Error('check cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      sock.setEncoding('utf8');
      sock.once('connect', () => sock.write(`${JSON.stringify(req)}\n`));
      sock.on('data', (d: string) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl < 0) {
          if (buf.length > MAX_LINE) finish(new Error(`misc check runner at ${this.socket} sent an answer longer than ${MAX_LINE} bytes`));
          return;
        }
        let parsed;
        try {
          parsed = runAnswerSchema.safeParse(JSON.parse(buf.slice(0, nl)));
        } catch {
          parsed = null;
        }
        if (!parsed?.success || (parsed.data.id !== req.id && parsed.data.id !== null)) {
          return finish(new Error(`misc check runner at ${this.socket} sent an answer that is not one (protocol mismatch?)`));
        }
        finish(null, parsed.data);
      });
      sock.once('error', (e: NodeJS.ErrnoException) => {
        const down = e.code === 'ENOENT' || e.code === 'ECONNREFUSED';
        finish(new Error(down
          ? `misc check runner at ${this.socket} is not running`
          : `misc check runner at ${this.socket}: ${e.code === 'EACCES' ? 'permission denied (is the agent\'s user in the director-check group?)' : e.message}`));
      });
      sock.once('close', () => finish(new Error(`misc check runner at ${this.socket} closed the connection without answering`)));
    });
  }
}
