/**
 * The persistence lens on the connections page: the lab's DR service made
 * persistent for a minute, the generator's client looked up by CIDR, its
 * templates and where they point, against the agent's own answer.
 */
import { serviceId } from '../lib/ipvs/ids';
import { agent } from './lab';
import { DIRECTOR, expect, screen, test } from './fixtures';

const DR = { kind: 'addr' as const, family: 'inet' as const, protocol: 'tcp' as const, address: '192.168.150.100', port: 80 };

test('a client CIDR shows its persistence templates, the real server each points at, and a histogram per server', async ({ operator: page }) => {
  const before = await agent().services.get.query({ key: DR });
  await agent().services.update.mutate({ key: DR, patch: { flags: { persistent: true }, timeout: 120 } });
  try {
    // the generator's next request makes the template
    await expect.poll(async () => (await agent().connections.lens.query({ service: DR })).total, { timeout: 20_000 }).toBeGreaterThan(0);
    const truth = await agent().connections.lens.query({ service: DR, client: '192.168.150.0/24' });
    await page.goto(`${DIRECTOR}/connections`);
    const form = page.getByRole('form', { name: 'Persistence lens' });
    // a bad CIDR is refused beside the field
    await form.getByLabel('Client address or CIDR').fill('192.168.150.0/33');
    await expect(form.getByRole('alert')).toBeVisible();
    await form.getByLabel('Client address or CIDR').fill('192.168.150.0/24');
    await form.getByLabel('Service').selectOption(serviceId(DR));
    await form.getByRole('button', { name: 'Look up' }).click();
    await expect(page.getByTestId('lens-total')).toContainText(/\d+ templates?/);
    const rows = page.getByRole('table', { name: 'Persistence templates' }).getByRole('row');
    await expect(rows.nth(1)).toContainText('192.168.150.100:80');
    // the real server a template points at is one the agent named, and it has a histogram
    const dest = truth.destinations[0]!.destination;
    const fig = page.locator(`figure[data-destination="${dest}"]`);
    await expect(fig).toBeVisible();
    await expect(fig.getByRole('img')).toHaveAttribute('aria-label', /templates by time left/);
    await screen(page, 'persistence-lens');
  } finally {
    await agent().services.update.mutate({ key: DR, patch: { flags: { persistent: before.flags.persistent }, timeout: before.timeout } }).catch(() => undefined);
  }
});
