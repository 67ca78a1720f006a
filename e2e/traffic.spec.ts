/**
 * Real traffic from the lab's client namespace: rates per real server on the
 * service page, connection states on the connections page, and the seed's
 * DR lesson (a real server without the VIP on its loopback leaves SYN_RECV).
 */
import { agent, until } from './lab';
import { ConnectionsPage, ServicePage, Shell } from './pages/console';
import { DIRECTOR, expect, screen, servicePath, test } from './fixtures';

const VIP = '192.168.150.100';
const DR = `${VIP}:80`;
const RS1 = '192.168.150.12:80';
const RS2 = '192.168.150.13:80';
const DEFAULT_RATE = 2;

/** "1.00/s", "0/s", "2.5k/s" -> a number (0 when the text is not a rate). */
function rateOf(text: string): number {
  const m = /([\d.]+)\s*([kM]?)\/s/.exec(text);
  if (!m) return 0;
  return Number(m[1]) * (m[2] === 'k' ? 1e3 : m[2] === 'M' ? 1e6 : 1);
}

test('the generator\'s HTTP to the DR service shows as rates on both real servers', async ({ operator: page }) => {
  await page.goto(servicePath('tcp', VIP, 80));
  await expect(new Shell(page).live()).toHaveText(/Live/);
  const svc = new ServicePage(page);
  await expect(svc.graph()).toBeVisible();
  // rr over two servers: each gets about half of the generator's requests
  for (const rs of [RS1, RS2]) {
    const conns = svc.realServerRow(rs).getByRole('cell').nth(5);
    await expect.poll(async () => rateOf(await conns.innerText()), { message: `conns/s of ${rs}`, timeout: 15_000 }).toBeGreaterThan(0);
  }
  // the graph's legend carries the newest value of each series
  const legend = page.locator('.u-legend');
  for (const rs of [RS1, RS2]) {
    await expect.poll(async () => rateOf(await legend.getByRole('row').filter({ hasText: rs }).innerText()), { message: `graph legend for ${rs}`, timeout: 15_000 }).toBeGreaterThan(0);
  }
  await screen(page, 'service-dr-with-traffic');
});

test('the lab page draws the topology and shows both real servers healthy and answering', async ({ operator: page }) => {
  await page.goto(`${DIRECTOR}/lab`);
  await expect(page.getByRole('heading', { name: 'Lab' })).toBeVisible();
  for (const rs of ['rs1', 'rs2']) {
    const health = page.getByRole('list', { name: `${rs} health` });
    await expect(health.getByText('broken', { exact: true })).toHaveCount(0);
    await expect(health.getByText('ok', { exact: true })).toHaveCount(5);
  }
  const traffic = page.getByRole('table', { name: 'Traffic per service' });
  const drRow = traffic.getByRole('row', { name: /^192\.168\.150\.100:80 DR / });
  await expect(drRow).toContainText('192.168.150.12:');
  await expect(drRow).toContainText('192.168.150.13:');
  await screen(page, 'lab');
});

test.describe('connection states', () => {
  test.afterAll(async () => {
    await agent().lab.fault.mutate({ server: 'rs2', fault: 'remove-vip', on: false });
    await agent().lab.setRate.mutate({ rate: DEFAULT_RATE });
  });

  test('DR shows FIN_WAIT, NAT shows TIME_WAIT; rs2 without its VIP piles up SYN_RECV and is flagged', async ({ operator: page }) => {
    // SYN_RECV needs time to pile up, and each fault switch runs several programs in the slow lab kernel
    test.setTimeout(300_000);
    await page.goto(`${DIRECTOR}/connections`);
    const conns = new ConnectionsPage(page);
    const serviceBar = (addr: string) => page.getByRole('button', { name: new RegExp(`^TCP ${addr.replace(/\./g, '\\.')} `) }).getByRole('img');
    // DR: the director sees only the client's half of each exchange; NAT: both halves
    await expect(serviceBar(DR)).toHaveAccessibleName(/FIN_WAIT \d+/);
    await expect(serviceBar(`${VIP}:8080`)).toHaveAccessibleName(/TIME_WAIT \d+/);
    await expect(conns.rows().filter({ hasText: 'FIN_WAIT' }).first()).toBeVisible();
    await expect(conns.synRecvAlerts()).toHaveCount(0);
    await screen(page, 'connections-healthy');

    // the seed's broken DR real server: no VIP on its loopback, so it drops what the director sends
    await agent().lab.setRate.mutate({ rate: 10 });
    const after = await agent().lab.fault.mutate({ server: 'rs2', fault: 'remove-vip', on: true });
    expect(after.realServers.find((r) => r.name === 'rs2')?.vipOnLo).toBe(false);

    const alert = conns.synRecvAlerts().filter({ hasText: `${RS2} of TCP ${DR}` });
    await expect(alert).toBeVisible({ timeout: 60_000 });
    await expect(alert).toContainText('VIP is missing on the real server');
    await expect(conns.synRecvAlerts().filter({ hasText: `${RS1} of TCP ${DR}` })).toHaveCount(0);

    const lab = await page.context().newPage();
    await lab.goto(`${DIRECTOR}/lab`);
    await expect(lab.getByRole('list', { name: 'rs2 health' }).getByText('broken', { exact: true })).not.toHaveCount(0);
    await screen(lab, 'lab-rs2-broken');
    await lab.close();

    await conns.stateFilter().selectOption('SYN_RECV');
    await expect(conns.rows().filter({ hasText: RS2 }).filter({ hasText: `${VIP}:80` }).first()).toBeVisible();
    await screen(page, 'connections-rs2-syn-recv');

    const repaired = await agent().lab.fault.mutate({ server: 'rs2', fault: 'remove-vip', on: false });
    expect(repaired.realServers.find((r) => r.name === 'rs2')?.vipOnLo).toBe(true);
    // repaired: rs2 completes handshakes again, so the director sees its DR exchanges reach FIN_WAIT
    await conns.stateFilter().selectOption('FIN_WAIT');
    await until('rs2 to finish handshakes again', async () => {
      const r = await agent().connections.list.query({ state: 'FIN_WAIT', destination: { family: 'inet', address: '192.168.150.13', port: 80 }, cursor: 0, limit: 50 });
      return r.entries.some((e) => (e.expires ?? 0) > 110);
    }, 60_000, 1000);
  });
});
