/**
 * Pieces of an operator's day in the console, against the lab kernel:
 * keepalived.conf in and out, the alarm for a service nobody serves, the
 * journal in words, and a narrow window.
 */
import { readFile } from 'node:fs/promises';
import { agent, ipvsadm, labInfo, savedRules } from './lab';
import { LoginPage, SnapshotsPage } from './pages/console';
import { DIRECTOR, expect, screen, servicePath, test } from './fixtures';

const KA_PORT = 9393;
const KA_SVC = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: KA_PORT } as const;
const CONF = `vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    virtual_ipaddress {
        192.168.150.100/24
    }
}
virtual_server 192.168.150.100 ${KA_PORT} {
    delay_loop 5
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 192.168.150.12 80 {
        weight 3
        HTTP_GET {
            url {
              path /
              status_code 200
            }
            connect_timeout 2
        }
    }
}
`;
const ALARM_PORT = 9394;

async function cleanup(): Promise<void> {
  const rules = await savedRules();
  for (const port of [KA_PORT, ALARM_PORT]) {
    if (rules.some((l) => l.startsWith(`-A -t 192.168.150.100:${port} `))) await ipvsadm('-D', '-t', `192.168.150.100:${port}`);
  }
  await agent().health.config.remove.mutate({ service: KA_SVC }).catch(() => undefined);
}

test.describe('an operator\'s day', () => {
  test.afterEach(cleanup);

  test('a keepalived.conf is planned with its checks and VRRP preview, applied, and exported back', async ({ operator: page }) => {
    await cleanup();
    const before = await ipvsadm('-Sn');
    await page.goto(`${DIRECTOR}/snapshots`);
    const snaps = new SnapshotsPage(page);
    await page.getByRole('combobox', { name: 'Snapshot format' }).selectOption('keepalived');
    await snaps.importText().fill(CONF);
    await snaps.showPlan().click();
    await expect(snaps.applyPlan()).toHaveText('Apply 2 changes');
    await expect(page.getByText(`TCP 192.168.150.100:${KA_PORT}: checks on 1 real server`)).toBeVisible();
    const vrrp = page.getByRole('table', { name: 'VRRP preview' });
    await expect(vrrp).toContainText('VI_1');
    await expect(vrrp).toContainText('192.168.150.100/24');
    await screen(page, 'keepalived-import-plan');
    expect(await ipvsadm('-Sn')).toBe(before); // a plan changes nothing
    await snaps.applyPlan().click();
    await expect(page.getByRole('status').filter({ hasText: 'Applied 2 changes' })).toBeVisible({ timeout: 30_000 });
    expect(await savedRules()).toEqual(expect.arrayContaining([
      `-A -t 192.168.150.100:${KA_PORT} -s wrr`,
      `-a -t 192.168.150.100:${KA_PORT} -r 192.168.150.12:80 -m -w 3`,
    ]));
    const cfg = await agent().health.config.get.query({ service: KA_SVC });
    expect(cfg[0]?.realServers[0]?.checks[0]).toMatchObject({ type: 'http' });
    // export: the table with its checks as keepalived.conf
    await page.getByRole('radio', { name: 'keepalived.conf' }).click();
    await expect(snaps.exportText()).toContainText(`virtual_server 192.168.150.100 ${KA_PORT} {`);
    await expect(snaps.exportText()).toContainText('HTTP_GET');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.keepalived\.conf$/);
    expect(await readFile(await download.path(), 'utf8')).toContain(`real_server 192.168.150.12 80 {`);
    // the journal says it in words
    await expect(page.getByRole('cell', { name: /^Restored a snapshot/ }).first()).toBeVisible();
  });

  test('a service whose real servers are all at weight 0 raises an alarm on the overview and its page', async ({ operator: page }) => {
    await cleanup();
    await ipvsadm('-A', '-t', `192.168.150.100:${ALARM_PORT}`, '-s', 'rr');
    await ipvsadm('-a', '-t', `192.168.150.100:${ALARM_PORT}`, '-r', '192.168.150.13:80', '-g', '-w', '0');
    await page.goto(DIRECTOR);
    const alarm = page.getByRole('alert').filter({ hasText: 'no real server taking new connections' });
    await expect(alarm).toBeVisible({ timeout: 20_000 });
    await expect(alarm).toContainText(`192.168.150.100:${ALARM_PORT}`);
    await screen(page, 'overview-no-server-alarm');
    await page.goto(servicePath('tcp', '192.168.150.100', ALARM_PORT));
    await expect(page.getByRole('alert').filter({ hasText: 'every new request to this service is dropped' })).toBeVisible();
    await expect(page.getByRole('table', { name: 'Real servers' }).getByText('drained', { exact: true })).toBeVisible();
    // a real server back at weight 1 ends the alarm
    await ipvsadm('-e', '-t', `192.168.150.100:${ALARM_PORT}`, '-r', '192.168.150.13:80', '-g', '-w', '1');
    await expect(page.getByRole('alert').filter({ hasText: 'every new request to this service is dropped' })).toHaveCount(0, { timeout: 20_000 });
  });

  test('at 800 px wide the header keeps Sign out on screen and no page scrolls sideways', async ({ operator: page }) => {
    await page.setViewportSize({ width: 800, height: 900 });
    for (const path of [DIRECTOR, `${DIRECTOR}/connections`, `${DIRECTOR}/health`, `${DIRECTOR}/snapshots`, '/ha']) {
      await page.goto(path);
      await page.waitForLoadState('networkidle');
      const signOut = page.getByRole('button', { name: 'Sign out' });
      await expect(signOut).toBeInViewport();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${path} scrolls sideways by ${overflow} px`).toBeLessThanOrEqual(0);
    }
    await screen(page, 'overview-800px');
  });

  test('the admin\'s header at 1440 and 800 px: every tab whole or in More, nothing past the edge', async ({ browser }) => {
    const info = labInfo();
    const admin = info.adminSignIn;
    if (!admin) throw new Error('no admin sign-in in the lab info (global-setup passes DIRECTOR_LAB_ADMIN_PASSWORD)');
    const ctx = await browser.newContext({ baseURL: info.consoleUrl, viewport: { width: 1440, height: 900 } });
    try {
      const page = await ctx.newPage();
      await new LoginPage(page).signIn(admin.username, admin.password);
      const all = ['Fleet', 'Overview', 'Connections', 'Health', 'Doctor', 'Snapshots', 'Draft', 'Settings', 'Lab', 'HA', 'Directors', 'Users'];
      const nav = page.getByRole('navigation', { name: 'Sections' });
      for (const width of [1440, 800]) {
        await page.setViewportSize({ width, height: 900 });
        await page.goto(`${DIRECTOR}/doctor`);
        // Fleet comes first and only once the session (and its directors) is known: the tabs are all there
        await expect(nav.getByRole('link', { name: 'Fleet' })).toBeVisible();
        await page.waitForLoadState('networkidle');
        // nothing wider than the window: the page, the header's row, the navigation; Sign out on screen
        const overflow = () => page.evaluate(() => {
          const over = (e: Element | null) => (e ? e.scrollWidth - e.clientWidth : 0);
          return Math.max(document.documentElement.scrollWidth - window.innerWidth, over(document.querySelector('header > div')),
            over(document.querySelector('nav[aria-label="Sections"]')), over(document.querySelector('nav[aria-label="Sections"] > div')));
        });
        await expect.poll(overflow, { message: `header at ${width} px overflows` }).toBeLessThanOrEqual(0);
        await expect(page.getByRole('button', { name: 'Sign out' })).toBeInViewport({ ratio: 1 });
        // each tab in the bar is drawn whole (none cut at the bar's edge)
        const cut = await nav.locator('[data-tab]').evaluateAll((els) => {
          const bar = els[0]?.parentElement?.getBoundingClientRect();
          return els.filter((e) => { const r = e.getBoundingClientRect(); return !bar || r.left < bar.left - 0.5 || r.right > bar.right + 0.5; }).map((e) => e.textContent);
        });
        expect(cut, `tabs cut at ${width} px`).toEqual([]);
        const inBar = await nav.locator('[data-tab]').allTextContents();
        const more = nav.getByRole('button', { name: /^More/ });
        let inMore: string[] = [];
        if (await more.count()) {
          await more.click();
          inMore = (await nav.getByRole('link').allTextContents()).filter((t) => !inBar.includes(t));
        }
        await screen(page, `admin-header-${width}px`);
        expect([...inBar, ...inMore], `at ${width} px`).toEqual(all);
        if (width === 1440) expect(inMore, 'at 1440 px every tab fits in the bar').toEqual([]);
        else {
          expect(inMore.length).toBeGreaterThan(0);
          // a tab in More works: Users opens, and More shows it is the current section
          await nav.getByRole('link', { name: 'Users' }).click();
          await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();
          await expect(page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Users' })).toHaveCount(0);
        }
      }
    } finally {
      await ctx.close();
    }
  });
});
