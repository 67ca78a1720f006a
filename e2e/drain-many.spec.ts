/**
 * Draining a set of real servers (a rack) from the service page: select
 * rows, "Drain selected", confirm with "remove them when drained", and the
 * agent drains them together and removes each once empty. A set with one
 * server that went meanwhile drains none and says which. A service of its
 * own (no traffic), removed at the end.
 */
import { agent } from './lab';
import { expect, screen, servicePath, test } from './fixtures';

const VIP = '192.168.150.100';
const PORT = 8097;
const SVC = { kind: 'addr' as const, family: 'inet' as const, protocol: 'tcp' as const, address: VIP, port: PORT };
const FLAGS = { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false };
const TUNNEL = { type: 'ipip' as const, port: 0, checksum: 'nocsum' as const };
const SERVERS = ['192.168.150.12', '192.168.150.13', '192.168.150.14', '192.168.150.15'];
const key = (address: string) => ({ family: 'inet' as const, address, port: PORT });
/** address → weight, as the kernel has it now */
const kernel = async () => Object.fromEntries((await agent().services.get.query({ key: SVC, fresh: true })).destinations.map((d) => [d.address, d.weight]));

test.beforeAll(async () => {
  await agent().services.remove.mutate({ key: SVC }).catch(() => undefined);
  await agent().services.create.mutate({
    service: { key: SVC, scheduler: 'wrr', flags: FLAGS, timeout: 0, netmask: '255.255.255.255', pe: null },
    destinations: SERVERS.map((address) => ({ ...key(address), forward: 'dr' as const, weight: 3, upperThreshold: 0, lowerThreshold: 0, tunnel: TUNNEL })),
  });
});
test.afterAll(async () => {
  await agent().services.remove.mutate({ key: SVC }).catch(() => undefined);
});

test('selected real servers drain together and are removed once empty; a set with a missing server drains none', async ({ operator: page }) => {
  await page.goto(servicePath('tcp', VIP, PORT));
  const table = page.getByRole('table', { name: 'Real servers' });
  const drainSelected = page.getByRole('button', { name: /^Drain selected/ });
  await expect(table.locator('tr', { hasText: `${SERVERS[3]}:${PORT}` })).toBeVisible();
  await expect(drainSelected).toBeDisabled();

  // a set whose second server is removed behind the page's back: refused, naming it, nothing drained
  await table.getByLabel(`Select ${SERVERS[2]}:${PORT}`).check();
  await table.getByLabel(`Select ${SERVERS[3]}:${PORT}`).check();
  await drainSelected.click();
  let dialog = page.getByRole('dialog', { name: 'Drain 2 real servers' });
  await expect(dialog.getByRole('list', { name: 'Real servers to drain' }).getByRole('listitem')).toHaveCount(2);
  await agent().destinations.remove.mutate({ service: SVC, destination: key(SERVERS[3]!) });
  await dialog.getByRole('button', { name: 'Set weight 0 and drain 2 real servers' }).click();
  await expect(dialog.getByRole('alert')).toHaveText(new RegExp(`^items\\.[01]: ${SERVERS[3]!.replace(/\./g, '\\.')}:${PORT} is not a real server of TCP ${VIP.replace(/\./g, '\\.')}:${PORT}; nothing was drained$`));
  expect(await kernel()).toEqual({ [SERVERS[0]!]: 3, [SERVERS[1]!]: 3, [SERVERS[2]!]: 3 });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();

  // the rack: the first two, removed when drained (no traffic: at once)
  await table.getByLabel(`Select ${SERVERS[2]}:${PORT}`).uncheck();
  await table.getByLabel(`Select ${SERVERS[0]}:${PORT}`).check();
  await table.getByLabel(`Select ${SERVERS[1]}:${PORT}`).check();
  await expect(drainSelected).toHaveText('Drain selected (2)');
  await drainSelected.click();
  dialog = page.getByRole('dialog', { name: 'Drain 2 real servers' });
  await expect(dialog.getByRole('list', { name: 'Real servers to drain' })).toContainText(`${SERVERS[0]}:${PORT}`);
  await expect(dialog.getByRole('list', { name: 'Real servers to drain' })).toContainText(`${SERVERS[1]}:${PORT}`);
  await dialog.getByLabel(/Remove them when drained/).check();
  await screen(page, 'drain-many');
  await dialog.getByRole('button', { name: 'Set weight 0 and drain 2 real servers' }).click();
  await expect(dialog.getByRole('status')).toContainText('Drained 2 real servers (journal #');
  await dialog.getByRole('button', { name: 'Close' }).click();

  // the agent removes both once empty; the third keeps its weight; the page follows
  await expect.poll(kernel, { timeout: 30_000, intervals: [500] }).toEqual({ [SERVERS[2]!]: 3 });
  await expect(table.locator('tbody tr')).toHaveCount(1, { timeout: 20_000 });
  const entries = await agent().journal.list.query({ limit: 30 });
  const drains = entries.filter((e) => e.op === 'destinations.drain' && e.objects.some((o) => o.kind === 'destination' && o.service.kind === 'addr' && o.service.port === PORT));
  expect(drains).toHaveLength(2);
  const removals = entries.filter((e) => e.op === 'destinations.remove' && /^drain \(asked by /.test(e.actor ?? ''));
  expect(removals.length).toBeGreaterThanOrEqual(2);
});
