/**
 * Which host CPU a lab kernel is pinned to.
 *
 * User-mode Linux runs its guest processes as host processes that it drives
 * with ptrace: every system call, page fault and timer tick is a round trip
 * between two host processes. Left to the host scheduler, the two halves of
 * that round trip land on different CPUs, and on a virtual machine each
 * cross-CPU wake-up of an idle CPU goes through the hypervisor. Pinned to one
 * CPU, the same lab here ran 2-4 times faster and far steadier (20 rounds of
 * `cat /proc/net/ip_vs` at 1,000 x 4: 45-169 ms unpinned, 23-31 ms pinned;
 * `ipvsadm -Ln --stats` 650-2,512 ms against 312-408 ms). The guest has one
 * CPU, so pinning takes nothing from it.
 *
 * Labs started by one process take the allowed CPUs in turn from the last
 * (the HA lab's two kernels get two CPUs). DIRECTOR_LAB_CPU=off turns it off;
 * any other value is handed to taskset as the CPU list.
 */
import { existsSync, readFileSync } from 'node:fs';

export const TASKSET = '/usr/bin/taskset';

/** "0-3,6" -> [0, 1, 2, 3, 6] */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not a CPU list: ${JSON.stringify(list)}`);
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out;
}

function allowedCpus(): number[] {
  try {
    const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? parseCpuList(m[1]!) : [];
  } catch {
    return [];
  }
}

let started = 0;

/** The taskset CPU list for the next lab kernel, or null to leave it to the host scheduler. */
export function nextLabCpu(env: Record<string, string | undefined> = process.env, cpus: number[] = allowedCpus(), hasTaskset = existsSync(TASKSET)): string | null {
  const setting = env.DIRECTOR_LAB_CPU?.trim();
  if (setting === 'off' || !hasTaskset) return null;
  if (setting) return setting;
  if (cpus.length === 0) return null;
  return String(cpus[cpus.length - 1 - (started++ % cpus.length)]);
}
