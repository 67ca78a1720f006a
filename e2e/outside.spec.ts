/**
 * Changes made outside Director, against the lab kernel: an `ipvsadm` edit
 * run inside the lab (not through Director, so not journaled) shows as an
 * alarm with its diff on the service page and on the fleet page; Revert puts
 * back what Director wrote (as `ipvsadm -Sn` shows) and Adopt keeps the edit,
 * each journaled.
 */
import { agent, ipvsadm, savedRules } from './lab';
import { expect, screen, servicePath, test } from './fixtures';

const VIP = '192.168.150.100';
const PORT = 9395;
const KEY = { kind: 'addr', family: 'inet', protocol: 'tcp', address: VIP, port: PORT } as const;

async function cleanup(): Promise<void> {
  if ((await savedRules()).some((l) => l.startsWith(`-A -t ${VIP}:${PORT} `))) await agent().services.remove.mutate({ key: KEY });
}

test.describe('changes made outside Director', () => {
  test.afterEach(cleanup);

  test('an ipvsadm edit raises the alarm on the service and fleet pages; revert restores, adopt keeps', async ({ operator: page }) => {
    await cleanup();
    await agent().services.create.mutate({
      service: { key: KEY, scheduler: 'rr' },
      destinations: [{ family: 'inet', address: '192.168.150.11', port: 80, forward: 'nat', weight: 1 }],
    });
    const written = await savedRules();
    await page.goto(servicePath('tcp', VIP, PORT));
    await expect(page.getByRole('heading', { name: new RegExp(`${VIP}:${PORT}`) }).first()).toBeVisible();
    const alarm = page.getByRole('alert', { name: 'Changed outside Director' });
    await expect(alarm).toHaveCount(0);

    // someone on the director runs ipvsadm
    await ipvsadm('-e', '-t', `${VIP}:${PORT}`, '-r', '192.168.150.11:80', '-m', '-w', '5');
    const t0 = Date.now();
    await expect(alarm).toContainText('real server 192.168.150.11:80: weight 1 → 5', { timeout: 10_000 });
    console.log(`outside alarm on the service page ${Date.now() - t0} ms after ipvsadm`);
    await screen(page, 'outside-service');

    // the fleet page names it with its diff, and leads to the service
    await page.goto('/');
    const row = page.getByRole('table', { name: 'Directors' }).locator('tr[data-director="lab"]');
    await expect(row.getByText(`changed outside Director: TCP ${VIP}:${PORT}`)).toBeVisible({ timeout: 15_000 });
    await expect(row.getByText('real server 192.168.150.11:80: weight 1 → 5')).toBeVisible();
    await screen(page, 'outside-fleet');
    await row.getByRole('link', { name: `changed outside Director: TCP ${VIP}:${PORT}` }).click();
    await expect(alarm).toBeVisible();

    // revert: Director's configuration back, journaled
    await alarm.getByRole('button', { name: 'Revert' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revert' }).click();
    await expect(alarm).toHaveCount(0, { timeout: 10_000 });
    expect(await savedRules()).toEqual(written);
    expect((await agent().journal.list.query({ limit: 1 }))[0]).toMatchObject({ op: 'outside.revert', state: 'done' });

    // adopt: the edit stays and becomes Director's own
    await ipvsadm('-a', '-t', `${VIP}:${PORT}`, '-r', '192.168.150.12:80', '-m', '-w', '2');
    await expect(alarm).toContainText('real server 192.168.150.12:80 added (nat, weight 2)', { timeout: 10_000 });
    const edited = await savedRules();
    await alarm.getByRole('button', { name: 'Adopt' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Adopt' }).click();
    await expect(alarm).toHaveCount(0, { timeout: 10_000 });
    expect(await savedRules()).toEqual(edited);
    expect((await agent().journal.list.query({ limit: 1 }))[0]).toMatchObject({ op: 'outside.adopt', actor: expect.stringMatching(/^outside \(adopted by .+\)$/) });
    // and it stays quiet: the adopted table is what Director expects now
    await page.waitForTimeout(3000);
    await expect(alarm).toHaveCount(0);
  });
});
