/**
 * The agent's rate history on the service page and the overview: a reloaded
 * page's chart opens with points older than the page (the agent kept them,
 * not the browser), and the range pickers switch to an hour and a day.
 */
import { DIRECTOR, expect, screen, servicePath, test } from './fixtures';
import { SCREENS } from './lab';
import { ServicePage } from './pages/console';

const VIP = '192.168.150.100';

test('a reloaded service page opens with the agent\'s history, and the range picker switches it', async ({ operator: page }) => {
  await page.goto(servicePath('tcp', VIP, 80));
  const svc = new ServicePage(page);
  await expect(svc.graph()).toBeVisible();
  // the page watches the service: the agent samples it every tick while the lab's generator sends requests
  await page.waitForTimeout(10_000);
  const reloadAt = Date.now();
  await page.reload();
  const graph = svc.graph();
  // at once (well before the page itself could have seen ten seconds): points from before the reload
  await expect.poll(async () => Number((await graph.getAttribute('data-oldest')) || Infinity), { timeout: 5_000 }).toBeLessThan(reloadAt - 8_000);
  expect(Number(await graph.getAttribute('data-points'))).toBeGreaterThanOrEqual(8);
  await expect(graph).toHaveAccessibleName(/over the last 15 minutes: \d+ points since /);

  const range = page.getByRole('radiogroup', { name: 'Range' });
  await range.getByRole('radio', { name: '1 h' }).click();
  await expect(range.getByRole('radio', { name: '1 h' })).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByRole('heading', { name: 'Per-server rates, last hour' })).toBeVisible();
  const hour = page.getByRole('img', { name: /Per-server .* over the last hour: \d+ points/ });
  // minutes: the agent's closed ones and the one the live ticks are filling
  await expect.poll(async () => Number(await hour.getAttribute('data-points')), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
  // and they carry the generator's rate: the legend shows the newest point's value of each real server
  const legend = page.locator('.u-legend');
  for (const rs of ['192.168.150.12:80', '192.168.150.13:80']) {
    await expect(legend.getByRole('row').filter({ hasText: rs })).toContainText(/\d\.\d+\/s/, { timeout: 10_000 });
  }
  await screen(page, 'service-history-1h');
  await hour.screenshot({ path: `${SCREENS}/service-history-1h-chart.png` });

  await range.getByRole('radio', { name: '24 h' }).click();
  await expect(page.getByRole('img', { name: /Per-server .* over the last 24 hours: \d+ points/ })).toBeVisible();
});

test('the overview\'s sparklines switch from the last minute to the agent\'s 15 minutes', async ({ operator: page }) => {
  await page.goto(DIRECTOR);
  const picker = page.getByRole('radiogroup', { name: 'Sparkline range' });
  await expect(picker.getByRole('radio', { name: '1 min' })).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByRole('img', { name: 'new connections per second, last minute' }).first()).toBeVisible();
  await picker.getByRole('radio', { name: '15 min' }).click();
  await expect(page.getByRole('img', { name: 'new connections per second, last 15 minutes' }).first()).toBeVisible();
  // the DR service carries the generator's traffic: its sparkline is a line, not an empty axis
  const row = page.getByRole('row').filter({ hasText: `${VIP}:80` }).first();
  await expect(row.getByRole('img', { name: 'new connections per second, last 15 minutes' }).locator('polyline')).toHaveCount(1);
  await screen(page, 'overview-sparklines-15m');
});
