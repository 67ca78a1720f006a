/**
 * Runs before every kernel test file. The files share one lab kernel, so a
 * file that dies in a hook (a ZooKeeper stall, a timeout) can leave a sync
 * daemon, rules or keepalived behind and fail a dozen unrelated files after
 * it. Each file starts from an empty table instead, and what was left is
 * printed so the leak is still seen and blamed on the file before.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll } from 'vitest';

const sh = (cmd: string) => execFileSync('bash', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

beforeAll(() => {
  const left = [
    sh('ipvsadm -L --daemon 2>/dev/null || true'),
    sh('ipvsadm -S -n 2>/dev/null || true'),
    sh('pgrep -a keepalived || true'),
  ].filter(Boolean);
  if (!left.length) return;
  console.warn(`kernel state left by an earlier file, reset before this one:\n${left.join('\n')}`);
  sh('pkill -KILL keepalived; ipvsadm -C; ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup; true');
});
