/**
 * Forms against the real kernel: a service and two real servers made in the
 * browser appear in the lab director's own `ipvsadm -Sn`; weight changes made
 * with ipvsadm or in another tab show up in open tabs without a reload.
 */
import { ipvsadm, savedRules, until } from './lab';
import { OverviewPage, ServiceFormDialog, ServicePage, Shell } from './pages/console';
import { DIRECTOR, expect, screen, servicePath, test } from './fixtures';

const VIP = '192.168.150.100';
const PORT = 9090;
const SVC = `${VIP}:${PORT}`;
const RS1 = '192.168.150.12:80';
const RS2 = '192.168.150.13:80';

async function removeLeftover(): Promise<void> {
  if ((await savedRules()).some((l) => l.startsWith(`-A -t ${SVC} `))) await ipvsadm('-D', '-t', SVC);
}

test.describe.serial('virtual service made through the forms', () => {
  test.beforeAll(removeLeftover);
  test.afterAll(removeLeftover);

  test('service and two NAT real servers appear in ipvsadm -Sn exactly', async ({ operator: page }) => {
    await page.goto(DIRECTOR);
    await expect(new Shell(page).live()).toHaveText(/Live/);
    const overview = new OverviewPage(page);
    await overview.addService().click();
    const form = new ServiceFormDialog(page);
    await form.field('Virtual address').fill(VIP);
    await form.field('Port').fill(String(PORT));
    await form.field('Scheduler').selectOption('wrr');
    await screen(page, 'overview-add-service-form');
    await form.submit().click();
    await expect(form.dialog()).toBeHidden();
    await expect(overview.row(SVC)).toBeVisible();
    expect(await savedRules()).toContain(`-A -t ${SVC} -s wrr`);

    await overview.open(SVC);
    await expect(page).toHaveURL(servicePath('tcp', VIP, PORT));
    const svc = new ServicePage(page);
    for (const [rs, weight] of [[RS1, 2], [RS2, 1]] as const) {
      await svc.addRealServer().click();
      const [addr, port] = rs.split(':');
      await form.field('Real server address').fill(addr!);
      await form.field('Port').fill(port!);
      await form.field('Forwarding method').selectOption('nat');
      await form.field('Weight').fill(String(weight));
      if (weight === 1) await screen(page, 'service-add-real-server-form');
      await form.submit().click();
      await expect(form.dialog()).toBeHidden();
      await expect(svc.weightCell(rs)).toHaveText(String(weight));
    }

    const rules = await savedRules();
    expect(rules.filter((l) => l.includes(` ${SVC} `))).toEqual([
      `-A -t ${SVC} -s wrr`,
      `-a -t ${SVC} -r ${RS1} -m -w 2`,
      `-a -t ${SVC} -r ${RS2} -m -w 1`,
    ]);
    await screen(page, 'service-created-through-forms');
  });

  test('weights changed with ipvsadm and in another tab show in both open tabs without reload', async ({ operator: tabA }) => {
    const tabB = await tabA.context().newPage();
    for (const tab of [tabA, tabB]) {
      await tab.goto(servicePath('tcp', VIP, PORT));
      await expect(new Shell(tab).live()).toHaveText(/Live/);
      await expect(new ServicePage(tab).weightCell(RS1)).toHaveText('2');
      // a reload would lose this mark
      await tab.evaluate(() => { (window as unknown as { e2eMark: number }).e2eMark = 1; });
    }

    // outside Director: the kernel changes, the table change feed carries it
    await ipvsadm('-e', '-t', SVC, '-r', RS1, '-m', '-w', '5');
    for (const tab of [tabA, tabB]) await expect(new ServicePage(tab).weightCell(RS1)).toHaveText('5');

    // inside Director: tab A edits, tab B follows
    const a = new ServicePage(tabA);
    await a.realServerRow(RS2).getByRole('button', { name: 'Edit' }).click();
    const form = new ServiceFormDialog(tabA);
    await form.field('Weight').fill('3');
    await form.submit().click();
    await expect(form.dialog()).toBeHidden();
    await expect(new ServicePage(tabB).weightCell(RS2)).toHaveText('3');
    await until('ipvsadm to show weight 3', async () => (await savedRules()).includes(`-a -t ${SVC} -r ${RS2} -m -w 3`));
    await screen(tabB, 'service-second-tab-after-edit');

    for (const tab of [tabA, tabB]) {
      expect(await tab.evaluate(() => (window as unknown as { e2eMark?: number }).e2eMark)).toBe(1);
    }
  });

  test('deleting the service asks first and removes it from the kernel', async ({ operator: page }) => {
    await page.goto(servicePath('tcp', VIP, PORT));
    await new ServicePage(page).deleteService().click();
    const confirm = page.getByRole('dialog', { name: 'Delete this virtual service?' });
    await expect(confirm).toContainText('2 real servers');
    await confirm.getByRole('button', { name: 'Delete service' }).click();
    await until('the service to leave the kernel', async () => !(await savedRules()).some((l) => l.includes(` ${SVC} `)));
    // the page goes back to the overview by itself
    await expect(page).toHaveURL((u) => u.pathname === DIRECTOR);
    await expect(new OverviewPage(page).row(`${VIP}:80`)).toBeVisible();
    await expect(new OverviewPage(page).row(SVC)).toHaveCount(0);
  });
});
