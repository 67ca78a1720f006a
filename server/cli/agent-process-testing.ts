/**
 * For kernel tests: `director agent` as its own process (bin/director.mjs, as an operator starts it) over a
 * state folder, stopped with SIGTERM as systemd stops it, with a bounded wait for each step.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Whether bin/director.mjs would run a bundle older than the sources (one built by an earlier `npm run
 * package`): then the test runs the sources, so that it tests the code it was written for.
 */
function staleBundle(): boolean {
  const bundle = path.join(ROOT, 'dist/cli/director.mjs');
  if (!existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  const newer = (dir: string): boolean => readdirSync(dir, { withFileTypes: true }).some((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? newer(p) : e.name.endsWith('.ts') && statSync(p).mtimeMs > built;
  });
  return newer(path.join(ROOT, 'server')) || newer(path.join(ROOT, 'lib'));
}

/** The last agent started: its log goes into every timeout's message. */
let current: AgentProcess | null = null;

/** Polls `fn` until it returns a value, for at most `timeoutMs`; a timeout names `what` and the agent's log. */
export async function until<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string, stepMs = 300): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${current ? `\nagent log:\n${current.log()}` : ''}`);
    await sleep(stepMs);
  }
}

export class AgentProcess {
  private out = '';

  private constructor(readonly proc: ChildProcess) {
    proc.stdout!.on('data', (d: Buffer) => { this.out += d.toString(); });
    proc.stderr!.on('data', (d: Buffer) => { this.out += d.toString(); });
  }

  /** Starts the agent on 127.0.0.1:`port` with `args` besides; resolves once /healthz answers (90 s at most). */
  static async start(port: number, stateDir: string, args: string[] = []): Promise<AgentProcess> {
    const proc = spawn(process.execPath, [path.join(ROOT, 'bin/director.mjs'), 'agent', '--listen', `127.0.0.1:${port}`,
      '--state-dir', stateDir, '--log-level', 'warn', ...args],
    {
      cwd: '/', stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', ...(staleBundle() ? { DIRECTOR_NO_BUNDLE: '1' } : {}) },
    });
    const a = new AgentProcess(proc);
    current = a;
    await until(async () => {
      if (proc.exitCode !== null) throw new Error(`the agent exited (${proc.exitCode})`);
      return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
    }, 90_000, 'the agent to answer /healthz').catch((e: unknown) => {
      if (proc.exitCode !== null) throw new Error(`the agent exited (${proc.exitCode}):\n${a.log()}`);
      throw e;
    });
    return a;
  }

  log(): string {
    return this.out;
  }

  get running(): boolean {
    return this.proc.exitCode === null;
  }

  /** SIGTERM to the process that serves (bin/director.mjs runs the sources in a child when there is no bundle); its exit code, -1 after 30 s. */
  async stop(): Promise<number | null> {
    const pid = this.proc.pid!;
    let kids: number[] = [];
    try {
      kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch { /* gone */ }
    const exited = new Promise<number | null>((r) => { if (this.proc.exitCode !== null) r(this.proc.exitCode); else this.proc.once('exit', (c) => r(c)); });
    process.kill(kids[0] ?? pid, 'SIGTERM');
    return Promise.race([exited, sleep(30_000).then(() => { this.proc.kill('SIGKILL'); return -1; })]);
  }
}
