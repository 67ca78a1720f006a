/**
 * The agent's CPU as the host sees it, for the lab's measurement windows.
 *
 * Inside the one-CPU lab kernel a process's CPU time is wall time while it
 * was current, so when the host (itself a VM) does not run the lab kernel,
 * or the guest kernel handles traffic while the agent is current, the agent
 * is charged for it: the same build under the same load read 2.4 % in one
 * 30 s window and 6.7 % in the next. In user-mode Linux every guest address
 * space runs in a host process of its own, so that process's host user time
 * is the agent's own code (JavaScript and V8's threads) measured by a kernel
 * that is not the one being loaded. It leaves out the guest kernel's work
 * for the agent's system calls (dumps, /proc text), which runs in the lab
 * kernel's main host process with everyone else's.
 *
 * The guest prints marks on its console; this runs on the host and takes a
 * reading at each one (a mark arrives within milliseconds).
 *   @@host-mark agent            the agent has just started: its host process is the newest lab process
 *   @@host-mark start LABEL      a window opens
 *   @@host-mark end LABEL        it closes
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { procStat } from './stats';

export interface HostWindow {
  label: string;
  /** the agent's host process: user and system time, % of one core */
  userPct: number;
  sysPct: number;
  /** share of the host's CPU time the hypervisor took for others during the window */
  stealPct: number;
  /** every lab-kernel host process together, % of one core */
  labPct: number;
}

interface Reading { at: number; user: number; sys: number; steal: number; all: number; lab: number }

const HZ = 100; // USER_HZ on Linux

function stat(pid: number | string): { comm: string; user: number; sys: number; start: number; rssPages: number } | null {
  let st: ReturnType<typeof procStat>;
  try { st = procStat(`/proc/${pid}/stat`); } catch { return null; } // the process ended
  const f = st.fields;
  return { comm: st.comm, user: Number(f[11]), sys: Number(f[12]), start: Number(f[19]), rssPages: Number(f[21]) };
}

function labProcesses(): { pid: number; user: number; sys: number; start: number; rssPages: number }[] {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(d);
    if (s && s.comm.startsWith('linux')) out.push({ pid: Number(d), ...s });
  }
  return out;
}

export class HostWatch {
  private agentPid: number | null = null;
  private readonly open = new Map<string, Reading>();
  readonly windows: HostWindow[] = [];
  readonly problems: string[] = [];
  /** which host process was taken for the agent (to check against the guest's RSS) */
  agentNote = '';

  /** Feed every line of the lab's console output. */
  onLine(line: string): void {
    const m = /^@@host-mark (agent|start|end) ?(.*)$/.exec(line.trim());
    if (!m) return;
    try {
      if (m[1] === 'agent') this.findAgent();
      else if (m[1] === 'start') this.open.set(m[2]!, this.read());
      else this.close(m[2]!);
    } catch (e) {
      this.problems.push(`host reading at ${m[1]} ${m[2]}: ${(e as Error).message}`);
    }
  }

  private findAgent(): void {
    // the newest lab process: the agent exec'd just before the mark, and the suite's short-lived ipvsadm
    // and shell children have exited by then (a process with under 20 MB resident is not node)
    const candidates = labProcesses().filter((p) => p.rssPages * 4096 > 20 * 2 ** 20).sort((a, b) => b.start - a.start);
    this.agentPid = candidates[0]?.pid ?? null;
    if (this.agentPid === null) this.problems.push('no lab process large enough to be the agent');
    else this.agentNote = `host process ${this.agentPid}, ${((candidates[0]!.rssPages * 4096) / 2 ** 20).toFixed(0)} MB resident when found`;
  }

  private read(): Reading {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const a = this.agentPid === null ? null : stat(this.agentPid);
    if (this.agentPid !== null && !a) throw new Error(`the agent's host process ${this.agentPid} is gone`);
    const lab = labProcesses().reduce((n, p) => n + p.user + p.sys, 0);
    // /proc/stat: user nice system idle iowait irq softirq steal (guest time is inside user)
    return { at: performance.now(), user: a?.user ?? NaN, sys: a?.sys ?? NaN, steal: cpu[7]!, all: cpu.slice(0, 8).reduce((x, y) => x + y, 0), lab };
  }

  private close(label: string): void {
    const a = this.open.get(label);
    if (!a) throw new Error('no window of that name open');
    this.open.delete(label);
    const b = this.read();
    const secs = (b.at - a.at) / 1000;
    const pct = (ticks: number) => (ticks / HZ / secs) * 100;
    this.windows.push({
      label, userPct: pct(b.user - a.user), sysPct: pct(b.sys - a.sys),
      stealPct: b.all > a.all ? ((b.steal - a.steal) / (b.all - a.all)) * 100 : 0, labPct: pct(b.lab - a.lab),
    });
  }
}
