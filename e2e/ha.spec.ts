/**
 * The HA panel against the two-director lab (`npm start -- --ha`): both
 * directors shown, the VIP holder and lease holder from the agents, and a
 * fault (the master director stopped) reflected without a reload; then the
 * operator's hand over through the panel.
 *
 * Run: flock /tmp/tap.lock /work/notes/labslot npx playwright test -c playwright.ha.config.ts
 * Under the default config (single-director lab) the spec is skipped and says why.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, screen, test } from './fixtures';
import { labInfo, SCREENS } from './lab';

const VIP = '192.168.150.100';

function isHaLab(): boolean {
  try {
    return (labInfo() as unknown as { labMode?: string }).labMode === 'ha';
  } catch {
    return false;
  }
}

/** A `lab.*` mutation of one director's agent through the console's proxy, with the signed-in operator's cookie. */
async function labCall(page: Page, director: string, proc: string, input: unknown): Promise<unknown> {
  // the console takes state-changing requests only with its own Origin, as a browser sends it
  const res = await page.request.post(`/api/trpc/${encodeURIComponent(director)}/lab.${proc}`, {
    data: input, headers: { origin: new URL(labInfo().consoleUrl).origin },
  });
  const body = await res.json() as { result?: { data: unknown }; error?: { message: string } };
  if (!res.ok() || body.error) throw new Error(`lab.${proc} ${JSON.stringify(input)} on ${director}: ${res.status()} ${body.error?.message ?? ''}`);
  return body.result?.data;
}

const group = (page: Page) => page.locator('section').filter({ has: page.getByRole('heading', { name: /VIP group lan/ }) });
const vipRow = (page: Page) => page.locator(`tr[data-vip="${VIP}"]`);
const memberRow = (page: Page, d: string) => page.locator(`tr[data-director="${d}"]`);
const directorPanel = (page: Page, d: string) => page.locator('section').filter({ has: page.getByRole('heading', { name: new RegExp(`\\b${d}\\b`) }) });
/** "Lease: <name>", the name of a lab director ending in its id */
const leaseOf = (page: Page, d: string) => group(page).getByText(new RegExp(`Lease: .*\\b${d}\\b`));

test.describe('HA panel', () => {
  test.skip(!isHaLab(), 'needs the two-director lab: run with -c playwright.ha.config.ts (npm start -- --ha); the default e2e lab has one director');

  test('shows both directors and the holder, and follows a stopped master without reload', async ({ operator: page }) => {
    test.setTimeout(240_000);
    await page.goto('/ha');
    await expect(page.getByRole('heading', { name: 'High availability' })).toBeVisible();
    for (const d of ['lvs1', 'lvs2']) await expect(directorPanel(page, d).getByText('agent live')).toBeVisible({ timeout: 60_000 });

    // Whoever holds the lease must be the one director whose kernel has the VIP.
    const holder = await soleHolder(page);
    const other = holder === 'lvs1' ? 'lvs2' : 'lvs1';
    await expect(leaseOf(page, holder)).toBeVisible();
    await expect(memberRow(page, holder).getByText('MASTER', { exact: true })).toBeVisible();
    // a freshly booted lab may still be restarting an agent (the panel then says so): wait for the settled pair
    await expect(memberRow(page, other).getByText('BACKUP', { exact: true })).toBeVisible({ timeout: 90_000 });
    for (const d of ['lvs1', 'lvs2']) await expect(directorPanel(page, d).getByText('agent live')).toBeVisible();
    await expect(page.locator('[data-alarm="split"]')).toHaveCount(0);
    await screen(page, 'ha-healthy');
    await themedScreens(page, 'ha-healthy');

    // Same page object throughout: no reload, only ha.onStatus and the status reads move it.
    const marker = await page.evaluate(() => ((window as unknown as { __haMarker: number }).__haMarker = Math.random()));
    await labCallFault(page, 'stop-director', holder);
    try {
      await expect(vipRow(page)).toHaveAttribute('data-holders', other, { timeout: 15_000 });
      await expect(page.getByText(new RegExp(`The agent of .*\\b${holder}\\b does not answer`))).toBeVisible({ timeout: 15_000 });
      await expect(leaseOf(page, other)).toBeVisible({ timeout: 15_000 });
      await expect(memberRow(page, other).getByText('MASTER', { exact: true })).toBeVisible();
      await expect(page.locator('[data-alarm="split"]')).toHaveCount(0);
      await screen(page, 'ha-master-stopped');
      await themedScreens(page, 'ha-master-stopped');
    } finally {
      await labCallFault(page, 'start-director', holder);
    }
    await expect(directorPanel(page, holder).getByText('agent live')).toBeVisible({ timeout: 60_000 });
    await expect(page.getByText(new RegExp(`The agent of .*\\b${holder}\\b does not answer`))).toHaveCount(0);
    // nopreempt (the lab's default): the survivor keeps the VIP after the recovery
    await expect(memberRow(page, holder).getByText('BACKUP', { exact: true })).toBeVisible({ timeout: 30_000 });
    await expect(vipRow(page)).toHaveAttribute('data-holders', other);
    expect(await page.evaluate(() => (window as unknown as { __haMarker?: number }).__haMarker)).toBe(marker);
  });

  test('hands the VIP group over through the panel, with confirmation', async ({ operator: page }) => {
    await page.goto('/ha');
    for (const d of ['lvs1', 'lvs2']) await expect(directorPanel(page, d).getByText('agent live')).toBeVisible({ timeout: 60_000 });
    const holder = await soleHolder(page);
    const other = holder === 'lvs1' ? 'lvs2' : 'lvs1';
    // the standby must be ready to take over (not still fenced from an earlier switch)
    await expect(memberRow(page, other).getByText('BACKUP', { exact: true })).toBeVisible({ timeout: 30_000 });
    await memberRow(page, holder).getByRole('button', { name: 'Hand over' }).click();
    const dialog = page.getByRole('dialog', { name: 'Hand over group lan?' });
    await expect(dialog).toContainText(`${holder} releases the lease`);
    await dialog.getByRole('button', { name: 'Hand over' }).click();
    await expect(dialog).toBeHidden({ timeout: 15_000 });
    await expect(vipRow(page)).toHaveAttribute('data-holders', other, { timeout: 15_000 });
    await expect(leaseOf(page, other)).toBeVisible();
    await expect(page.getByRole('list', { name: 'HA transitions' })).toContainText(/hand/i);
    await screen(page, 'ha-handed-over');
  });
});

/** The one director whose kernel has the VIP, once exactly one has it. */
async function soleHolder(page: Page): Promise<'lvs1' | 'lvs2'> {
  await expect(vipRow(page)).toHaveAttribute('data-holders', /^lvs[12]$/, { timeout: 60_000 });
  return (await vipRow(page).getAttribute('data-holders')) as 'lvs1' | 'lvs2';
}

async function labCallFault(page: Page, fault: string, director: string): Promise<void> {
  // Ask the director that stays up: the stopped one's agent cannot answer.
  const via = director === 'lvs1' ? 'lvs2' : 'lvs1';
  await labCall(page, via, 'haFault', { fault, director });
}

/** HA_SCREENS=1: the panel at 1280 and 1920 px, light and dark, for a person to look at (test-results/e2e/screens). */
async function themedScreens(page: Page, name: string): Promise<void> {
  if (process.env.HA_SCREENS !== '1') return;
  mkdirSync(SCREENS, { recursive: true });
  const before = page.viewportSize();
  for (const theme of ['light', 'dark'] as const) {
    // the theme toggle's own mechanism (class on <html>), without a reload that would defeat the no-reload check
    await page.evaluate((t) => document.documentElement.classList.toggle('dark', t === 'dark'), theme);
    for (const width of [1280, 1920]) {
      await page.setViewportSize({ width, height: 1000 });
      await page.screenshot({ path: `${SCREENS}/${name}-${theme}-${width}.png`, fullPage: true });
    }
  }
  await page.evaluate(() => document.documentElement.classList.remove('dark'));
  if (before) await page.setViewportSize(before);
}
