/**
 * Slow start in the lab: a real server added with a slow start climbs from
 * weight 1 to its weight in steps the page shows, each journaled as "slow
 * start"; Stop ramp ends a second one where it stands. A service of its own
 * (no traffic), removed at the end.
 */
import { agent } from './lab';
import { expect, screen, servicePath, test } from './fixtures';

const VIP = '192.168.150.100';
const SVC = { kind: 'addr' as const, family: 'inet' as const, protocol: 'tcp' as const, address: VIP, port: 8099 };
const FLAGS = { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false };
const weightOf = async (address: string) => (await agent().services.get.query({ key: SVC, fresh: true })).destinations.find((d) => d.address === address)?.weight;

test.beforeAll(async () => {
  await agent().services.remove.mutate({ key: SVC }).catch(() => undefined);
  await agent().services.create.mutate({ service: { key: SVC, scheduler: 'wrr', flags: FLAGS, timeout: 0, netmask: '255.255.255.255', pe: null }, destinations: [] });
});
test.afterAll(async () => {
  await agent().services.remove.mutate({ key: SVC }).catch(() => undefined);
});

test('a real server added with a slow start climbs from 1 to its weight in journaled steps; Stop ramp ends another', async ({ operator: page }) => {
  await page.goto(servicePath('tcp', VIP, 8099));
  await page.getByRole('button', { name: 'Add real server' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add real server' });
  await dialog.getByLabel('Real server address').fill('192.168.150.12');
  await dialog.getByLabel('Weight').fill('4');
  // a bad duration is refused beside the field, nothing is added
  await dialog.getByLabel('Slow start (seconds)').fill('1');
  await expect(dialog.getByText('Slow start is 2 to 3600 seconds.')).toBeVisible();
  await dialog.getByRole('button', { name: 'Add real server' }).click();
  await expect(dialog).toBeVisible();
  expect(await weightOf('192.168.150.12')).toBeUndefined();
  await dialog.getByLabel('Slow start (seconds)').fill('9');
  await dialog.getByRole('button', { name: 'Add real server' }).click();
  await expect(dialog).toBeHidden();

  const row = page.getByRole('table', { name: 'Real servers' }).locator('tr', { hasText: '192.168.150.12:8099' });
  await expect(row.getByRole('status', { name: /slow start: weight \d of 4/ })).toBeVisible();
  await screen(page, 'slow-start');
  // the kernel's weight climbs through the steps to 4
  const seen = new Set<number>();
  await expect.poll(async () => { const w = await weightOf('192.168.150.12'); if (w !== undefined) seen.add(w); return w; }, { timeout: 30_000, intervals: [500] }).toBe(4);
  expect(Math.min(...seen)).toBeLessThan(4);
  await expect(row.getByRole('status', { name: /slow start/ })).toHaveCount(0, { timeout: 10_000 });
  const steps = (await agent().journal.list.query({ limit: 20 })).filter((e) => e.op === 'destinations.slowStart');
  expect(steps.length).toBeGreaterThanOrEqual(2);
  expect(steps.every((e) => e.actor === 'slow start')).toBe(true);

  // a second one, over a minute: Stop ramp leaves the weight where it stands
  await agent().destinations.slowStart.mutate({ service: SVC, destination: { family: 'inet', address: '192.168.150.12', port: 8099 }, weight: 10, seconds: 60 });
  await expect(row.getByRole('status', { name: /slow start: weight \d+ of 10/ })).toBeVisible({ timeout: 20_000 });
  await row.getByRole('button', { name: 'Stop ramp' }).click();
  await expect(row.getByRole('status', { name: /slow start/ })).toHaveCount(0, { timeout: 10_000 });
  const stopped = await weightOf('192.168.150.12');
  await page.waitForTimeout(8000);
  expect(await weightOf('192.168.150.12')).toBe(stopped);
  expect(stopped).toBeLessThan(10);
});
