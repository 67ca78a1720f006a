/**
 * The check runner: the only process that runs misc-check scripts when the
 * agent is installed as a package. It runs as its own user with no
 * capabilities and cannot read the agent's state folder (its unit hides it),
 * so a script, whatever the administrator put in the checks folder, never
 * sees the agent's tokens, credentials or journal. It takes one JSON request
 * per line (./protocol.ts), checks the script against the folder rules itself
 * (../checkers/scripts.ts), runs it without a shell, with a cleared
 * environment, in /, and kills its process group at its timeout or when the
 * asking connection goes away.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import net from 'node:net';
import { CHILD_PATH, noteOf } from '../checkers/misc';
import { resolveScript, type ScriptRules } from '../checkers/scripts';
import { MAX_LINE, runRequestSchema, type RunAnswer, type RunRequest } from './protocol';

const STDERR_KEPT = 4096;

/** An answer without its id and duration (Omit over each member of the union). */
type Outcome = RunAnswer extends infer A ? A extends unknown ? Omit<A, 'id' | 'durationMs'> : never : never;

export interface CheckRunnerOptions extends ScriptRules {
  socket: string;
  /** scripts running at once; requests beyond it wait */
  maxConcurrent: number;
  /** requests waiting beyond this are refused at once */
  maxWaiting: number;
}

export interface CheckRunner {
  readonly active: number;
  close(): Promise<void>;
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Runs one resolved script; `gone` aborts it (the agent hung up). */
function runOnce(file: string, req: RunRequest, gone: AbortSignal): Promise<Outcome> {
  return new Promise((resolve) => {
    // argv, no shell; its own process group, so a kill reaches what it started
    const child = spawn(file, [req.address, String(req.port)], {
      stdio: ['ignore', 'ignore', 'pipe'], detached: true, cwd: '/',
      env: { PATH: CHILD_PATH, DIRECTOR_RS_ADDRESS: req.address, DIRECTOR_RS_PORT: String(req.port) } as unknown as NodeJS.ProcessEnv,
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < STDERR_KEPT) stderr += d.toString('utf8', 0, STDERR_KEPT - stderr.length);
    });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; killGroup(child); }, req.timeoutMs);
    const onGone = () => killGroup(child);
    gone.addEventListener('abort', onGone, { once: true });
    const done = (a: Outcome) => {
      clearTimeout(timer);
      gone.removeEventListener('abort', onGone);
      resolve(a);
    };
    child.once('error', (e) => done({ refused: `cannot run script ${req.script}: ${e.message}` }));
    child.once('close', (code, sig) => {
      const stderrFirstLine = noteOf(stderr);
      if (timedOut) return done({ signal: 'SIGKILL', timedOut: true, stderrFirstLine });
      done(code === null ? { signal: sig ?? 'SIGKILL', stderrFirstLine } : { exitCode: code, stderrFirstLine });
    });
  });
}

export async function startCheckRunner(o: CheckRunnerOptions): Promise<CheckRunner> {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => { running--; waiting.shift()?.(); };

  async function handle(line: string, gone: AbortSignal): Promise<RunAnswer> {
    const started = performance.now();
    const refuse = (id: number | null, refused: string): RunAnswer => ({ id, refused, durationMs: performance.now() - started });
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return refuse(null, 'request is not JSON');
    }
    const parsed = runRequestSchema.safeParse(json);
    if (!parsed.success) {
      const rawId = (json as { id?: unknown } | null)?.id;
      const id = Number.isSafeInteger(rawId) && (rawId as number) >= 0 ? rawId as number : null;
      const i = parsed.error.issues[0]!;
      return refuse(id, `bad request: ${i.path.join('.') || 'request'}: ${i.message}`);
    }
    const req = parsed.data;
    let file: string;
    try {
      file = await resolveScript(o, req.script);
    } catch (e) {
      return refuse(req.id, `not run: ${(e as Error).message}`);
    }
    if (running >= o.maxConcurrent) {
      if (waiting.length >= o.maxWaiting) return refuse(req.id, `too many checks running (${o.maxConcurrent} at once, ${waiting.length} waiting)`);
      const go = await new Promise<boolean>((resolve) => {
        const next = () => { gone.removeEventListener('abort', drop); resolve(true); };
        const drop = () => { waiting.splice(waiting.indexOf(next), 1); resolve(false); };
        gone.addEventListener('abort', drop, { once: true });
        waiting.push(next);
      });
      if (!go) return refuse(req.id, 'check cancelled');
    }
    running++;
    try {
      return { id: req.id, ...(await runOnce(file, req, gone)), durationMs: performance.now() - started };
    } finally {
      release();
    }
  }

  const conns = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    conns.add(sock);
    const hangup = new AbortController();
    let buf = '';
    const answer = (a: RunAnswer) => { if (!sock.destroyed) sock.write(`${JSON.stringify(a)}\n`); };
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (Buffer.byteLength(line) > MAX_LINE) {
          answer({ id: null, refused: `request line longer than ${MAX_LINE} bytes`, durationMs: 0 });
          sock.end();
          return;
        }
        void handle(line, hangup.signal).then(answer);
      }
      // a line that cannot end within the bound: stop reading it at once
      if (Buffer.byteLength(buf) > MAX_LINE) {
        answer({ id: null, refused: `request line longer than ${MAX_LINE} bytes`, durationMs: 0 });
        buf = '';
        sock.end();
        sock.pause();
      }
    });
    sock.on('error', () => {});
    sock.once('close', () => { conns.delete(sock); hangup.abort(); });
  });
  // only the agent connects; a bound keeps a runaway one from exhausting descriptors
  server.maxConnections = 1024;
  // a socket left by a runner that died; the folder is the runner's own (RuntimeDirectory)
  rmSync(o.socket, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.socket, () => { server.off('error', reject); resolve(); });
  });
  // the agent's user reaches it through the socket's group (the unit's RuntimeDirectory keeps others out too)
  chmodSync(o.socket, 0o660);
  return {
    get active() { return running; },
    close: () => new Promise<void>((resolve) => {
      for (const c of conns) c.destroy();
      server.close(() => resolve());
    }),
  };
}
