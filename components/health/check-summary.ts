/**
 * One line saying what a service's health checks do, for the collapsed row of
 * the health page ("HTTP GET / → 200 every 6 s, 2 retries; on failure:
 * quiesce"), so the operator reads the setup without opening the form.
 */
import type { HealthServiceConfig } from '@/lib/schemas/health';

export function checkSummary(cfg: HealthServiceConfig | null): string | null {
  const withChecks = cfg?.realServers.filter((r) => r.checks.length > 0) ?? [];
  const check = withChecks[0]?.checks[0];
  if (!cfg || !check) return null;
  let what: string;
  if (check.type === 'http') {
    const u = check.urls[0]!;
    what = `${check.tls ? 'HTTPS' : 'HTTP'} GET ${u.path} → ${u.statusCodes.join(' ')}`;
  } else if (check.type === 'tcp') {
    what = 'TCP connect';
  } else {
    what = `script ${check.script}`;
  }
  if (check.type !== 'misc' && check.connectPort !== undefined) what += ` on port ${check.connectPort}`;
  const t = { ...cfg.timing, ...check.timing };
  const parts = [what];
  if (t.delayLoop !== undefined) parts.push(`every ${t.delayLoop} s`);
  if (t.retry !== undefined) parts.push(`${t.retry} retr${t.retry === 1 ? 'y' : 'ies'}`);
  let line = parts.join(', ');
  line += `; on failure: ${cfg.onFailure === 'remove' ? 'remove' : 'quiesce'}`;
  if (withChecks.length < cfg.realServers.length) line += ` (${withChecks.length} of ${cfg.realServers.length} servers checked)`;
  return line;
}

export interface HealthCounts { up: number; down: number; maintenance: number; checking: number }

export function healthCounts(rows: ReadonlyArray<{ state: string; maintenance: boolean }>): HealthCounts {
  const c: HealthCounts = { up: 0, down: 0, maintenance: 0, checking: 0 };
  for (const r of rows) {
    if (r.maintenance || r.state === 'maintenance') c.maintenance++;
    else if (r.state === 'up') c.up++;
    else if (r.state === 'down') c.down++;
    else c.checking++;
  }
  return c;
}
