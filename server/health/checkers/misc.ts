/**
 * MISC_CHECK: a script from the administrator's checks folder decides. Exit
 * 0 = up, 1 = down; with misc_dynamic, 2..255 = up with weight (status - 2),
 * as keepalived. No shell: the script gets the real server's address and port
 * as its arguments (and in DIRECTOR_RS_ADDRESS/PORT), a cleared environment,
 * cwd /, an unprivileged user and no capabilities, through util-linux setpriv
 * (Node cannot clear a child's ambient capabilities, which the agent's unit
 * grants). It is killed with its process group when it outlives its timeout,
 * and only so many run at once.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolveScript, ScriptRefusedError, type ScriptRules } from './scripts';
import { seconds, type CheckResult, type CheckTarget } from './types';

export const CHILD_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const STDERR_KEPT = 4096;
const NOTE_MAX = 200;

export interface MiscCheckOptions {
  script: string;
  timeoutMs: number;
  dynamic: boolean;
  signal?: AbortSignal;
}

export interface RunAs {
  uid: number;
  gid: number;
}

export interface MiscRunnerOptions extends ScriptRules {
  /** the user scripts run as (--check-user); null: the agent cannot switch users, they run as its own */
  runAs: RunAs | null;
  /** may the agent drop its capability bounding set (CAP_SETPCAP)? */
  canDropBounding: boolean;
  /** scripts running at once; more wait their turn */
  maxConcurrent: number;
  /** waiting beyond this fails at once ("too many checks running") */
  maxWaiting: number;
  setpriv: string;
}

const CAP_SETGID = 6, CAP_SETUID = 7, CAP_SETPCAP = 8;

/** This process's effective capabilities, from /proc/self/status. */
export function effectiveCaps(status = readFileSync('/proc/self/status', 'utf8')): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

const has = (caps: bigint, bit: number) => (caps & (1n << BigInt(bit))) !== 0n;

/** Whether this agent can run scripts as another user and drop the bounding set. */
export function privileges(caps = effectiveCaps()): { canSwitchUser: boolean; canDropBounding: boolean } {
  return { canSwitchUser: has(caps, CAP_SETUID) && has(caps, CAP_SETGID), canDropBounding: has(caps, CAP_SETPCAP) };
}

/** `nobody`, `65534` or `65534:65534` -> uid and gid, from /etc/passwd for names. */
export function resolveUser(spec: string, passwd?: string): RunAs {
  const num = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(spec);
  if (num) return { uid: Number(num[1]), gid: Number(num[2] ?? num[1]) };
  const text = passwd ?? readFileSync('/etc/passwd', 'utf8');
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === spec && f.length >= 4 && /^\d+$/.test(f[2]!) && /^\d+$/.test(f[3]!)) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new Error(`no user '${spec}' in /etc/passwd (give a name or uid:gid)`);
}

/**
 * setpriv's argv: the user switch when the agent can, the inheritable,
 * ambient and (with CAP_SETPCAP) bounding sets emptied, no way back to
 * privilege. An agent that cannot switch users (the systemd unit: its own
 * user with ambient CAP_NET_ADMIN) still leaves the script no capability:
 * with the ambient set empty and no_new_privs (file capabilities ignored),
 * exec grants none. setpriv needs capset for this; where a seccomp filter
 * refuses it, setpriv fails and the check is refused, never run.
 */
export function setprivArgs(o: Pick<MiscRunnerOptions, 'runAs' | 'canDropBounding'>, script: string, target: CheckTarget): string[] {
  return [
    ...(o.runAs ? [`--reuid=${o.runAs.uid}`, `--regid=${o.runAs.gid}`, '--clear-groups'] : []),
    '--inh-caps=-all', '--ambient-caps=-all',
    ...(o.canDropBounding ? ['--bounding-set=-all'] : []),
    '--no-new-privs', '--', script, target.address, String(target.port),
  ];
}

/** First line of the script's stderr, without control characters, at most 200 characters. */
export function noteOf(stderr: string): string {
  const line = stderr.trim().split('\n')[0] ?? '';
  // eslint-disable-next-line no-control-regex
  return line.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, NOTE_MAX);
}

export class MiscRunner {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly opts: MiscRunnerOptions) {}

  get active(): number {
    return this.running;
  }

  /** Resolves when a slot is free (the caller then holds it), or rejects with a message. */
  private acquire(signal?: AbortSignal): Promise<void> {
    if (this.running < this.opts.maxConcurrent) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.opts.maxWaiting) {
      return Promise.reject(new Error(`too many checks running (${this.opts.maxConcurrent} at once, ${this.waiting.length} waiting)`));
    }
    return new Promise((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', onAbort);
        this.running++;
        resolve();
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new Error('check cancelled'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(go);
    });
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.();
  }

  async run(target: CheckTarget, o: MiscCheckOptions): Promise<CheckResult> {
    const started = performance.now();
    const fail = (message: string): CheckResult => ({ ok: false, message, durationMs: performance.now() - started });
    const refuse = (message: string): CheckResult => ({ ...fail(message), refused: true });
    if (o.signal?.aborted) return fail('check cancelled');
    let file: string;
    try {
      file = await resolveScript(this.opts, o.script);
    } catch (e) {
      if (e instanceof ScriptRefusedError) return refuse(`not run: ${e.message}`);
      return refuse(`not run: ${(e as Error).message}`);
    }
    try {
      await this.acquire(o.signal);
    } catch (e) {
      const m = (e as Error).message;
      return m === 'check cancelled' ? fail(m) : refuse(m);
    }
    try {
      return await this.spawnOnce(file, target, o, started);
    } finally {
      this.release();
    }
  }

  private spawnOnce(file: string, target: CheckTarget, o: MiscCheckOptions, started: number): Promise<CheckResult> {
    return new Promise((resolve) => {
      const child = spawn(this.opts.setpriv, setprivArgs(this.opts, file, target), {
        stdio: ['ignore', 'ignore', 'pipe'],
        // its own process group, so a timeout kills what the script started too
        detached: true,
        cwd: '/',
        // nothing of the agent's environment: a script learns only its target
        env: { PATH: CHILD_PATH, DIRECTOR_RS_ADDRESS: target.address, DIRECTOR_RS_PORT: String(target.port) } as unknown as NodeJS.ProcessEnv,
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => {
        if (stderr.length < STDERR_KEPT) stderr += d.toString('utf8', 0, STDERR_KEPT - stderr.length);
      });
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
        finish({ ok: false, message: `script ${o.script} timed out after ${seconds(o.timeoutMs)}` });
      }, o.timeoutMs);
      const onAbort = () => {
        kill();
        finish({ ok: false, message: 'check cancelled' });
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      child.once('error', (e) => finish({ ok: false, refused: true, message: `cannot run ${this.opts.setpriv} for script ${o.script}: ${e.message}` }));
      // 'close': stderr is read to its end (or to the bound) by then
      child.once('close', (code, sig) => {
        const note = noteOf(stderr);
        if (code === null) return finish({ ok: false, message: `script ${o.script} killed by ${sig}` });
        // setpriv's own failure (could not switch user or exec): never a dynamic weight
        if (note.startsWith('setpriv: ')) return finish({ ok: false, refused: true, message: `script ${o.script} not run: ${note}` });
        if (code === 0) return finish({ ok: true, message: 'exit 0' });
        if (o.dynamic && code >= 2) return finish({ ok: true, message: `exit ${code} (weight ${code - 2})`, weight: code - 2 });
        finish({ ok: false, message: `exit ${code}${note ? `: ${note}` : ''}` });
      });
    });
  }
}
