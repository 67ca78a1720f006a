/**
 * keepalived as the agent's child, VRRP only (-P), in the agent's network
 * namespace. The agent writes its configuration, reloads it with SIGHUP, reads
 * its state changes from notify_fifo, and steers it through track files.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { constants as fsc, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { parseNotifyLine, vrrpPaths, type NotifyEvent } from '@/lib/ha/vrrp-conf';
import { sleep } from '@/lib/sleep';

export interface KeepalivedEvents {
  onNotify(e: NotifyEvent): void;
  onExit(info: { code: number | null; signal: string | null; lastLines: string[] }): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Is `pid` a keepalived using our configuration file (not a recycled pid)? */
function isOurKeepalived(pid: number, conf: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((a) => a.endsWith('keepalived')) && argv.includes(conf);
  } catch {
    return false;
  }
}

function pidFrom(text: string): number | null {
  const n = Number(text.trim());
  return Number.isInteger(n) && n > 1 ? n : null;
}

async function readPid(file: string): Promise<number | null> {
  try {
    return pidFrom(await readFile(file, 'utf8'));
  } catch {
    return null;
  }
}

/** Blocking on purpose where every millisecond counts: an async read queues behind the thread pool's other file work. */
function readPidNow(file: string): number | null {
  try {
    return pidFrom(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

async function waitGone(pids: number[], ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pids.every((p) => !alive(p))) return true;
    await sleep(25);
  }
  return pids.every((p) => !alive(p));
}

export class KeepalivedManager {
  readonly confPath: string;
  readonly pidPath: string;
  readonly vrrpPidPath: string;
  private child: ChildProcess | null = null;
  private fifo: net.Socket | null = null;
  private lines: string[] = [];
  private stopping = false;

  constructor(private readonly opts: { binary: string; runDir: string; log: Logger; events: KeepalivedEvents }) {
    this.confPath = path.join(opts.runDir, 'keepalived.conf');
    this.pidPath = path.join(opts.runDir, 'keepalived.pid');
    this.vrrpPidPath = path.join(opts.runDir, 'vrrp.pid');
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }
  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }
  /** keepalived's last output lines (its errors are there) */
  get lastLines(): string[] {
    return [...this.lines];
  }

  /**
   * Kill a keepalived left by an earlier run of this agent (SIGKILLed agent,
   * its child survived or was re-parented). SIGTERM first: it then sends a
   * priority-0 advert and drops its VIPs, so the peer takes over at once.
   */
  async killLeftover(): Promise<number[]> {
    const pids: number[] = [];
    for (const f of [this.pidPath, this.vrrpPidPath]) {
      const pid = await readPid(f);
      if (pid !== null && pid !== process.pid && alive(pid) && isOurKeepalived(pid, this.confPath)) pids.push(pid);
    }
    if (pids.length === 0) return [];
    this.opts.log.warn({ pids }, 'stopping a keepalived left by an earlier run');
    for (const p of pids) process.kill(p, 'SIGTERM');
    if (!(await waitGone(pids, 3000))) {
      for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
      await waitGone(pids, 2000);
    }
    return pids;
  }

  private async openFifo(): Promise<void> {
    const fifo = vrrpPaths(this.opts.runDir).notifyFifo;
    const st = await stat(fifo).catch(() => null);
    if (st && !st.isFIFO()) await rm(fifo, { force: true });
    if (!st || !st.isFIFO()) {
      // created once at start (not in the loop); Node has no mkfifo
      const r = spawnSync('mkfifo', ['-m', '0600', fifo]);
      if (r.status !== 0) throw new Error(`cannot create the notify fifo ${fifo}: ${r.stderr?.toString().trim() || r.error?.message}`);
    }
    // read-write: the open never blocks waiting for keepalived, and a keepalived restart is no EOF
    const fd = openSync(fifo, fsc.O_RDWR | fsc.O_NONBLOCK);
    const sock = new net.Socket({ fd, readable: true, writable: false });
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const e = parseNotifyLine(line);
        if (e) this.opts.events.onNotify(e);
      }
    });
    sock.on('error', (err) => this.opts.log.error({ err }, 'notify fifo read failed'));
    this.fifo = sock;
  }

  async writeConfig(text: string): Promise<void> {
    await mkdir(this.opts.runDir, { recursive: true, mode: 0o700 });
    await writeFile(this.confPath + '.tmp', text, { mode: 0o600 });
    // keepalived re-reads the file on SIGHUP: never let it see half a file
    await rename(this.confPath + '.tmp', this.confPath);
  }

  /** Check the configuration with keepalived itself (-t); returns its complaints. */
  check(): string | null {
    const r = spawnSync(this.opts.binary, ['-t', '-f', this.confPath], { encoding: 'utf8', timeout: 10_000 });
    if (r.error) return `${this.opts.binary}: ${r.error.message}`;
    return r.status === 0 ? null : (r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n');
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (!this.fifo) await this.openFifo();
    this.stopping = false;
    const args = ['-n', '-l', '-D', '-P', '-f', this.confPath, '-p', this.pidPath, '-r', this.vrrpPidPath];
    const child = spawn(this.opts.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const onOut = (chunk: Buffer) => {
      for (const l of chunk.toString('utf8').split('\n')) {
        if (!l.trim()) continue;
        this.lines.push(l);
        if (this.lines.length > 50) this.lines.shift();
        this.opts.log.debug({ keepalived: l }, 'keepalived');
      }
    };
    child.stdout?.on('data', onOut);
    child.stderr?.on('data', onOut);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      this.opts.events.onExit({ code, signal, lastLines: this.lastLines.slice(-5) });
    });
  }

  reload(): void {
    if (this.child?.pid) process.kill(this.child.pid, 'SIGHUP');
  }

  /** SIGTERM: keepalived sends a priority-0 advert and drops its VIPs; SIGKILL if it does not exit in time. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child?.pid && this.running) {
      // the peer takes the VIPs when this SIGTERM's priority-0 advert arrives: nothing async before it
      const vrrp = readPidNow(this.vrrpPidPath);
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      this.opts.log.info({ pid: child.pid }, 'keepalived: SIGTERM sent (priority-0 advert, VIPs dropped)');
      const ok = await Promise.race([exited.then(() => true), sleep(timeoutMs).then(() => false)]);
      if (!ok) {
        child.kill('SIGKILL');
        if (vrrp && alive(vrrp) && isOurKeepalived(vrrp, this.confPath)) process.kill(vrrp, 'SIGKILL');
        await exited;
      }
    }
    this.child = null;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  close(): void {
    this.fifo?.destroy();
    this.fifo = null;
  }
}

/** A track file's value: keepalived reads the number at the start of the file on each inotify event. */
export async function writeTrackFile(file: string, value: number): Promise<void> {
  // written in place: keepalived re-reads the file when it is closed after writing (inotify IN_CLOSE_WRITE)
  await writeFile(file, `${value}\n`, { mode: 0o600 });
}
