/**
 * The lab page against the two-director lab (`npm start -- --ha`): both
 * directors drawn with the roles their agents report, the heartbeat path and
 * ZooKeeper; an HA fault switched on from the page (with confirmation) stays
 * on across a reload, shows its effect, and its Repair brings the pair back.
 *
 * Run: flock /tmp/tap.lock /work/notes/labslot npx playwright test -c playwright.ha.config.ts
 * Under the default config (single-director lab) the spec is skipped and says why.
 */
import type { Locator, Page } from '@playwright/test';
import { expect, screen, test } from './fixtures';
import { labInfo } from './lab';

function isHaLab(): boolean {
  try {
    return (labInfo() as unknown as { labMode?: string }).labMode === 'ha';
  } catch {
    return false;
  }
}

const box = (page: Page, d: string): Locator => page.locator(`[data-director="${d}"]`);
const heartbeatSwitch = (page: Page): Locator => page.locator('[data-switch="cut-heartbeat"]');

/** The director whose box says it holds the VIP as MASTER, once exactly one does and the other is BACKUP. */
async function settledPair(page: Page): Promise<{ master: string; backup: string }> {
  await expect(page.locator('[data-role="MASTER"][data-vip="yes"]')).toHaveCount(1, { timeout: 90_000 });
  const master = (await page.locator('[data-role="MASTER"]').getAttribute('data-director'))!;
  const backup = master === 'lvs1' ? 'lvs2' : 'lvs1';
  await expect(box(page, backup)).toHaveAttribute('data-role', 'BACKUP', { timeout: 90_000 });
  await expect(box(page, backup)).toHaveAttribute('data-vip', 'no');
  return { master, backup };
}

test.describe('Lab page, HA mode', () => {
  test.skip(!isHaLab(), 'needs the two-director lab: run with -c playwright.ha.config.ts (npm start -- --ha); the default e2e lab has one director');

  test('draws both directors with their roles; a cut heartbeat stays on across a reload, fences the backup, and Repair heals it', async ({ operator: page }) => {
    test.setTimeout(180_000);
    await page.goto('/d/lvs1/lab');
    await expect(page.getByRole('heading', { name: 'Topology (HA: two directors)' })).toBeVisible({ timeout: 30_000 });
    const { master, backup } = await settledPair(page);
    await expect(page.locator('[data-link="heartbeat"]')).toHaveAttribute('data-state', 'connected');
    await expect(page.locator('[data-node="zookeeper"]')).toHaveAttribute('data-state', 'running');
    // what was wrong before: one director drawn, "VIP on br0: no", tunl0 broken on the real servers
    await expect(page.getByText('VIP on br0')).toHaveCount(0);
    for (const rs of ['rs1', 'rs2']) {
      const health = page.getByRole('list', { name: `${rs} health` });
      await expect(health.locator('[data-check="tunl0 up (TUN)"]')).toContainText('n/a');
      await expect(health).not.toContainText('broken');
    }
    for (const d of [master, backup]) await expect(page.getByRole('list', { name: `${d} health` })).not.toContainText('broken', { timeout: 30_000 });
    await expect(heartbeatSwitch(page)).toHaveAttribute('data-on', 'no');
    await screen(page, 'lab-ha-healthy');

    // switch it on through the page: the dialog says what will happen first
    await heartbeatSwitch(page).getByRole('button', { name: 'Turn on…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cut the heartbeat path?' });
    await expect(dialog).toContainText('VRRP adverts are lost');
    await dialog.getByRole('button', { name: 'Turn on' }).click();
    await expect(dialog).toBeHidden({ timeout: 30_000 });
    try {
      await expect(heartbeatSwitch(page)).toHaveAttribute('data-on', 'yes');
      // the lab remembers it, not the browser
      await page.reload();
      await expect(heartbeatSwitch(page)).toHaveAttribute('data-on', 'yes', { timeout: 30_000 });
      await expect(page.locator('[data-link="heartbeat"]')).toHaveAttribute('data-state', 'cut');
      // the effect: the backup no longer hears the master and is fenced; the VIP stays with the master alone
      await expect(box(page, backup)).toHaveAttribute('data-role', /FAULT/, { timeout: 30_000 });
      await expect(box(page, master)).toHaveAttribute('data-vip', 'yes');
      await expect(box(page, backup)).toHaveAttribute('data-vip', 'no');
      await expect(page.getByRole('list', { name: 'HA pair health' }).locator('[data-check="heartbeat path connected"]')).toContainText('broken');
      await screen(page, 'lab-ha-heartbeat-cut');

      await heartbeatSwitch(page).getByRole('button', { name: 'Repair' }).click();
      await expect(heartbeatSwitch(page)).toHaveAttribute('data-on', 'no', { timeout: 30_000 });
    } finally {
      // leave the lab healthy for the next spec even when an expectation failed
      const res = await page.request.post('/api/trpc/lvs1/lab.haRepair', { data: {}, headers: { origin: new URL(labInfo().consoleUrl).origin } });
      expect(res.ok()).toBe(true);
    }
    await expect(page.locator('[data-link="heartbeat"]')).toHaveAttribute('data-state', 'connected');
    // healthy again: the same master, the backup back to BACKUP
    await expect(box(page, backup)).toHaveAttribute('data-role', 'BACKUP', { timeout: 60_000 });
    await expect(box(page, master)).toHaveAttribute('data-role', 'MASTER');
    await expect(page.getByRole('list', { name: 'HA pair health' })).not.toContainText('broken');
    await screen(page, 'lab-ha-repaired');
  });
});
