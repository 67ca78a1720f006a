/**
 * The Doctor page on the lab's director: clean while the lab is healthy;
 * a director fault and a real server answering ARP for the VIP each show as
 * a finding with its evidence, why and a fix line that copies exactly; a
 * viewer reads the findings but cannot send the ARP probe.
 */
import { mkdirSync } from 'node:fs';
import { agent, labInfo } from './lab';
import { LoginPage } from './pages/console';
import { DIRECTOR, expect, screen, test } from './fixtures';

const VIP = '192.168.150.100';
const RS2 = '192.168.150.13';

test('the doctor names a director fault and the real server that answers ARP, with fixes to copy', async ({ operator: page }) => {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto(`${DIRECTOR}/doctor`);
  await expect(page.getByRole('heading', { name: 'Doctor' })).toBeVisible();
  // a spec before this one (the change sets' canary) sent SYNs to a server that answers nothing: those
  // SYN_RECV entries live 60 s in the kernel, and the doctor rightly names them until they expire
  await expect(async () => {
    await page.reload();
    await expect(page.getByText('No findings: nothing the doctor checks is wrong on this director.')).toBeVisible({ timeout: 5000 });
  }).toPass({ timeout: 90_000, intervals: [5000] });
  await expect(page.getByRole('link', { name: 'Doctor' })).toHaveAttribute('aria-current', 'page');

  try {
    // the lab page's fault switch breaks the director itself
    await page.goto(`${DIRECTOR}/lab`);
    await page.getByLabel('Real server').selectOption('director');
    await page.getByLabel('Fault').selectOption('ip-forward-off');
    await expect(page.getByText('NAT: net.ipv4.ip_forward=0 on the director, so NAT replies are not routed back. Watch the Doctor page.')).toBeVisible();
    await page.getByRole('button', { name: 'Break' }).click();
    await expect(page.getByText('fault: ip-forward-off')).toBeVisible();
    // the lab remembers it (its markers), so a reload still lists it among the faults on, with its Repair
    await page.reload();
    await expect(page.locator('[data-fault-on="director.ip-forward-off"]').getByRole('button', { name: 'Repair' })).toBeVisible();
    await agent().lab.fault.mutate({ server: 'rs2', fault: 'break-arp', on: true });
    await page.getByRole('link', { name: 'Doctor' }).click();
    await page.getByRole('button', { name: 'Probe ARP' }).click();

    const forward = page.getByRole('article', { name: 'IP forwarding is off while NAT services are in use' });
    await expect(forward).toBeVisible();
    await expect(forward.getByText('critical', { exact: true })).toBeVisible();
    await expect(forward.getByText('net.ipv4.ip_forward = 0')).toBeVisible();
    await forward.getByRole('button', { name: 'Copy: sysctl -w net.ipv4.ip_forward=1' }).click();
    await expect(forward.getByRole('button', { name: 'Copy: sysctl -w net.ipv4.ip_forward=1' })).toHaveText('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('sysctl -w net.ipv4.ip_forward=1');

    const arp = page.getByRole('article', { name: new RegExp(`^real server ${RS2.replace(/\./g, '\\.')} \\(([0-9a-f]{2}:){5}[0-9a-f]{2}\\) answers ARP for the VIP ${VIP.replace(/\./g, '\\.')}$`) });
    await expect(arp).toBeVisible();
    await expect(arp.getByText(/^arping -I br0 -s 192\.168\.150\.1 192\.168\.150\.100: reply from/)).toBeVisible();
    await expect(arp.getByText(`sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2   # on ${RS2}`)).toBeVisible();
    await expect(page.getByLabel('Findings by severity')).toContainText('2 critical');
    await screen(page, 'doctor');
    mkdirSync('/work/notes/shots', { recursive: true });
    await page.screenshot({ path: '/work/notes/shots/doctor.png', fullPage: true });

    // the probe sends packets: a second one within 10 s is refused, and the page says so
    await page.getByRole('button', { name: 'Probe ARP' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'an ARP probe ran less than 10 s ago: try again in' })).toBeVisible();
  } finally {
    await agent().lab.fault.mutate({ server: 'director', fault: 'ip-forward-off', on: false });
    await agent().lab.fault.mutate({ server: 'rs2', fault: 'break-arp', on: false });
  }
  // repaired: the director's fault goes at the next look (the probe's answers stay until the next probe)
  await page.reload();
  await expect(page.getByRole('article', { name: 'IP forwarding is off while NAT services are in use' })).toHaveCount(0);
});

test('a viewer reads the findings; Probe ARP is disabled with the reason', async ({ browser }) => {
  const info = labInfo();
  if (!info.viewerSignIn) throw new Error('npm start printed no viewer sign-in');
  const context = await browser.newContext({ baseURL: info.consoleUrl });
  const page = await context.newPage();
  await new LoginPage(page).signIn(info.viewerSignIn.username, info.viewerSignIn.password);
  await page.goto(`${DIRECTOR}/doctor`);
  await expect(page.getByText(/^Kernel .*: 3 services with 6 real servers/)).toBeVisible();
  const probe = page.getByRole('button', { name: 'Probe ARP' });
  await expect(probe).toBeDisabled();
  await expect(probe).toHaveAccessibleDescription(/changing rules needs the operator role/);
  await context.close();
});
