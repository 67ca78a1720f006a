/**
 * Failover rehearsal in the HA panel (issue #26 item 8) against the
 * two-director lab: the operator clicks "Rehearse failover", confirms, and
 * sees the report row with the failed requests the lab's traffic measured;
 * then the console hands the lease back and the VIP returns to the director
 * that held it.
 *
 * Run: flock /tmp/tap.lock /work/notes/labslot npx playwright test -c playwright.ha.config.ts e2e/rehearsal.spec.ts
 */
import type { Page } from '@playwright/test';
import { expect, screen, test } from './fixtures';
import { labInfo } from './lab';

const VIP = '192.168.150.100';

function isHaLab(): boolean {
  try {
    return (labInfo() as unknown as { labMode?: string }).labMode === 'ha';
  } catch {
    return false;
  }
}

const vipRow = (page: Page) => page.locator(`tr[data-vip="${VIP}"]`);
const memberRow = (page: Page, d: string) => page.locator(`tr[data-director="${d}"]`);

test.describe('Failover rehearsal', () => {
  test.skip(!isHaLab(), 'needs the two-director lab: run with -c playwright.ha.config.ts (npm start -- --ha)');

  test('the operator rehearses a failover and reads the report row', async ({ operator: page }) => {
    test.setTimeout(240_000);
    await page.goto('/ha');
    await expect(vipRow(page)).toHaveAttribute('data-holders', /^lvs[12]$/, { timeout: 90_000 });
    const holder = (await vipRow(page).getAttribute('data-holders'))!;
    const other = holder === 'lvs1' ? 'lvs2' : 'lvs1';
    // the pre-flight needs a settled pair: the other director a BACKUP
    await expect(memberRow(page, other).getByText('BACKUP', { exact: true })).toBeVisible({ timeout: 90_000 });

    const reports = page.getByRole('table', { name: 'Rehearsal reports' });
    const before = await reports.locator('tr[data-rehearsal]').count();
    await page.getByRole('button', { name: 'Rehearse failover of lan' }).click();
    const dialog = page.getByRole('dialog', { name: /Rehearse a failover of lan/ });
    await expect(dialog).toContainText('hands the lease');
    await expect(dialog.getByRole('checkbox', { name: /Hand the lease back/ })).toBeChecked();
    await dialog.getByRole('button', { name: 'Rehearse' }).click();

    // a new row, newest first: ready, a measured number of failed requests, by the signed-in operator
    await expect(reports.locator('tr[data-rehearsal]')).toHaveCount(before + 1, { timeout: 90_000 });
    const row = reports.locator('tr[data-rehearsal]').first();
    await expect(row).toHaveAttribute('data-rehearsal', 'ready');
    await expect(row.getByTestId('failed-requests')).toHaveText(/^\d+$/);
    await expect(row).toContainText(/\d+\.\d\d s/);
    // handed back: the panel times it, and the VIP is where it was before the drill
    await expect(page.getByTestId('handback')).toContainText(/^Handed back to .* in \d+\.\d\d s$/, { timeout: 60_000 });
    await expect(vipRow(page)).toHaveAttribute('data-holders', holder, { timeout: 30_000 });
    await screen(page, 'ha-rehearsal');
  });
});
