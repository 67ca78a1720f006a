/**
 * Hash skew in the lab: the generator's one client address on a service
 * switched to sh lands on one real server; the lab's agent judges skew over
 * 10 s and raises it after 10 s more (lab-main.sh), and the service page and
 * the fleet page say so, with sh-port as the way out.
 */
import { agent } from './lab';
import { expect, screen, servicePath, test } from './fixtures';

const VIP = '192.168.150.100';
const SVC = { kind: 'addr' as const, family: 'inet' as const, protocol: 'tcp' as const, address: VIP, port: 8080 };

test('one client on an sh service: the hash-skew alarm on the service page and the fleet page, naming sh-port', async ({ operator: page }) => {
  test.setTimeout(120_000);
  const before = await agent().services.get.query({ key: SVC });
  await agent().services.update.mutate({ key: SVC, patch: { scheduler: 'sh' } });
  // enough new connections in the lab's 10 s window to judge (the agent wants 30)
  await agent().lab.setRate.mutate({ rate: 10 });
  try {
    await page.goto(servicePath('tcp', VIP, 8080));
    const alarm = page.getByRole('alert', { name: 'Hash skew' });
    await expect(alarm).toBeVisible({ timeout: 60_000 });
    await expect(alarm).toContainText('sh-port');
    await expect(alarm).toContainText(`ipvsadm -E -t ${VIP}:8080 -s sh -b sh-port`);
    // one server has every new connection, the other none
    await expect(alarm.locator('li[data-share="1.00"]')).toHaveCount(1);
    await expect(alarm.locator('li[data-share="0.00"]')).toHaveCount(1);
    await screen(page, 'hash-skew');
    await page.goto('/');
    await expect(page.getByRole('table', { name: 'Directors' }).getByText('1 service with hash skew')).toBeVisible({ timeout: 20_000 });
  } finally {
    await agent().lab.setRate.mutate({ rate: 2 }).catch(() => undefined);
    await agent().services.update.mutate({ key: SVC, patch: { scheduler: before.scheduler, flags: before.flags } }).catch(() => undefined);
  }
});
