/**
 * The fleet page against the two-director lab (`npm start -- --ha`), with a
 * third director the console knows but cannot reach: an enrolled agent whose
 * address answers nothing (127.0.0.1, port 9).
 *
 * Run with the HA config: npx playwright test -c playwright.ha.config.ts
 */
import { chownSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, screen, test } from './fixtures';
import { labInfo } from './lab';

interface HaInfo { labMode?: string; pid?: number; agents?: Array<{ id: string; url: string }> }
const info = (): HaInfo => { try { return labInfo() as unknown as HaInfo; } catch { return {}; } };

/** The lab console's state folder (start.ts makes /tmp/director-console-<its pid>-XXXXXX), where enrolled directors live. */
function consoleStateDir(): string {
  const pid = info().pid;
  const name = readdirSync(tmpdir()).find((n) => n.startsWith(`director-console-${pid}-`));
  if (!pid || !name) throw new Error(`no console state folder for the lab (pid ${pid}) in ${tmpdir()}`);
  return path.join(tmpdir(), name);
}

const GONE = {
  id: 'lvs3', name: 'lvs3', url: 'https://127.0.0.1:9', fingerprint: Array.from({ length: 32 }, () => 'AB').join(':'),
  viewerToken: 'v'.repeat(43), operatorToken: 'o'.repeat(43), credentialId: 'gone', enrolledAt: new Date().toISOString(),
};

test.describe('fleet', () => {
  test.skip(info().labMode !== 'ha', 'needs the two-director lab: run with -c playwright.ha.config.ts (npm start -- --ha)');

  test('lists both HA directors with their roles and an unreachable third; one click into a director', async ({ operator: page }) => {
    const file = path.join(consoleStateDir(), 'agents.json');
    const before = existsSync(file) ? readFileSync(file, 'utf8') : null;
    const list = before ? JSON.parse(before) as unknown[] : [];
    writeFileSync(file, JSON.stringify([...list, GONE]), { mode: 0o600 });
    chownSync(file, 65534, 65534); // the console runs as nobody
    try {
      // the console re-reads agents.json when its mtime changes, looking at most once a second
      await expect.poll(async () => JSON.stringify(await (await page.request.get('/api/me')).json()), { timeout: 10_000 }).toContain('"lvs3"');
      await page.goto('/');
      const table = page.getByRole('table', { name: 'Directors' });
      const agents = info().agents ?? [];
      expect(agents).toHaveLength(2);
      for (const a of agents) {
        const row = table.locator(`tr[data-director="${a.id}"]`);
        await expect(row).toBeVisible({ timeout: 30_000 });
        await expect(row.getByText('unreachable')).toHaveCount(0);
        await expect(row.getByText(/^lan (master|backup)/)).toBeVisible({ timeout: 30_000 });
      }
      // one master, one backup
      await expect(table.getByText(/^lan master/)).toHaveCount(1);
      await expect(table.getByText(/^lan backup/)).toHaveCount(1);
      const gone = table.locator('tr[data-director="lvs3"]');
      await expect(gone.getByText('unreachable').first()).toBeVisible({ timeout: 30_000 });
      await screen(page, 'fleet');
      await table.locator(`tr[data-director="${agents[0]!.id}"]`).getByRole('link').first().click();
      await expect(page).toHaveURL((u) => u.pathname === `/d/${agents[0]!.id}`);
    } finally {
      if (before === null) rmSync(file, { force: true });
      else { writeFileSync(file, before, { mode: 0o600 }); chownSync(file, 65534, 65534); }
    }
  });
});
