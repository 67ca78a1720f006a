import { existsSync, readFileSync, rmSync } from 'node:fs';
import { LAB_INFO } from './global-setup';

// Ctrl-C, as a user stops it; the start script tears the lab down itself.
export default async function globalTeardown(): Promise<void> {
  if (!existsSync(LAB_INFO)) return;
  const { pid } = JSON.parse(readFileSync(LAB_INFO, 'utf8')) as { pid?: number };
  rmSync(LAB_INFO, { force: true });
  if (!pid) return;
  try { process.kill(pid, 'SIGINT'); } catch { return; }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try { process.kill(pid, 0); } catch { return; }
    await new Promise((r) => setTimeout(r, 250));
  }
  try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
}
