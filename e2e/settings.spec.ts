/**
 * The director's Settings page against the lab kernel: what ipvsadm --set,
 * --start-daemon/--stop-daemon, -Z and -C do, done in the browser and read
 * back with the lab director's own ipvsadm. Clearing the table asks for the
 * director's name (or "clear") and is undone from the journal.
 */
import { agent, ipvsadm, savedRules, until } from './lab';
import { DIRECTOR, expect, screen, servicePath, test } from './fixtures';

const LAB_VIP = '192.168.150.100';

/** Conns of every service, from `ipvsadm -Ln --stats --exact` ("TCP  192.168.150.100:80" -> 1234). */
async function conns(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const l of (await ipvsadm('-Ln', '--stats', '--exact')).split('\n')) {
    const m = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\d+)/.exec(l);
    if (m) out.set(`${m[1]} ${m[2]}`, Number(m[3]));
  }
  return out;
}

test.describe.serial('director settings', () => {
  test.afterAll(async () => {
    await ipvsadm('--set', '900', '120', '300');
    for (const s of ['master', 'backup']) await ipvsadm('--stop-daemon', s).catch(() => undefined);
  });

  test('timeouts show the kernel\'s values; a change reaches ipvsadm; bad input names the field', async ({ operator: page }) => {
    await ipvsadm('--set', '900', '120', '300');
    await page.goto(`${DIRECTOR}/settings`);
    await expect(page.getByRole('heading', { name: 'Director settings' })).toBeVisible();
    await expect(page.getByText('900 / 120 / 300')).toBeVisible();
    await expect(page.getByLabel('TCP established')).toHaveValue('900');
    await page.getByLabel('UDP').fill('abc');
    await page.getByRole('button', { name: 'Set timeouts' }).click();
    await expect(page.getByRole('alert').filter({ hasText: /number/i })).toBeVisible();
    expect((await ipvsadm('-L', '--timeout')).trim()).toBe('Timeout (tcp tcpfin udp): 900 120 300');
    await page.getByLabel('TCP established').fill('1000');
    await page.getByLabel('UDP').fill('40');
    await page.getByRole('button', { name: 'Set timeouts' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
    await expect(page.getByText('1000 / 120 / 40')).toBeVisible();
    expect((await ipvsadm('-L', '--timeout')).trim()).toBe('Timeout (tcp tcpfin udp): 1000 120 40');
    await screen(page, 'parity-timeouts');
    // undo puts the old values back
    await agent().journal.undo.mutate();
    await until('timeouts back', async () => (await ipvsadm('-L', '--timeout')).includes(': 900 120 300'));
  });

  test('a sync daemon started and stopped in the browser is the one ipvsadm -L --daemon lists', async ({ operator: page }) => {
    await page.goto(`${DIRECTOR}/settings`);
    const running = page.getByRole('list', { name: 'Running sync daemons' });
    await expect(running).toContainText('No sync daemon runs');
    await page.getByLabel('Multicast interface').fill('br0');
    await page.getByLabel('Sync ID').fill('300');
    await page.getByRole('button', { name: 'Start master daemon' }).click();
    await expect(page.getByText(/less than or equal to 255|<=255|too big/i)).toBeVisible();
    expect(await ipvsadm('-L', '--daemon')).toBe('');
    await page.getByLabel('Sync ID').fill('7');
    await page.getByRole('button', { name: 'Start master daemon' }).click();
    await expect(running).toContainText('master sync daemon (mcast=br0, syncid=7');
    const listed = (await ipvsadm('-L', '--daemon')).trim();
    expect(listed).toMatch(/^master sync daemon \(mcast=br0, syncid=7, maxlen=\d+, group=224\.0\.0\.81, port=8848, ttl=1\)$/);
    // the page prints the daemon as ipvsadm does
    await expect(running).toContainText(listed);
    await screen(page, 'parity-sync-daemon');
    await running.getByRole('button', { name: 'Stop master' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Stop daemon' }).click();
    await expect(running).toContainText('No sync daemon runs');
    expect(await ipvsadm('-L', '--daemon')).toBe('');
  });

  test('zero all counters, and one service\'s from its page', async ({ operator: page }) => {
    // the lab's traffic (2 requests/s per service) gives every service counters to zero
    const before = await until('counters above 10', async () => {
      const c = await conns();
      return c.get(`TCP ${LAB_VIP}:80`)! > 10 ? c : null;
    }, 60_000);
    await page.goto(`${DIRECTOR}/settings`);
    await page.getByRole('button', { name: 'Zero all counters' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog).toContainText('cannot be undone');
    await screen(page, 'parity-zero-all');
    await dialog.getByRole('button', { name: 'Zero counters' }).click();
    await expect(dialog).toBeHidden();
    // the kernel folds per-CPU counters into what it reports every 2 s
    await until('counters zeroed', async () => {
      const c = await conns();
      // every service that carried traffic starts again from 0 (a few requests may land meanwhile)
      return [...before].filter(([, v]) => v > 10).every(([k, v]) => (c.get(k) ?? 0) < v && (c.get(k) ?? 0) <= 10);
    });
    const [entry] = await agent().journal.list.query({ limit: 1 });
    expect(entry).toMatchObject({ op: 'stats.zero', objects: [{ kind: 'counters', key: null }] });

    // one service: its counters restart, the others' keep counting
    await until('counters grow again', async () => ((await conns()).get(`TCP ${LAB_VIP}:80`) ?? 0) > 6);
    await page.goto(servicePath('tcp', LAB_VIP, 80));
    await page.getByRole('button', { name: 'Zero counters' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Zero counters' }).click();
    await until('one service zeroed', async () => {
      const [e] = await agent().journal.list.query({ limit: 1 });
      return e?.op === 'stats.zero' && (e.objects[0] as { key: unknown }).key !== null;
    });
  });

  test('clear the table only after typing the director\'s name; undo puts every service back', async ({ operator: page }) => {
    const before = (await savedRules()).sort();
    expect(before.length).toBeGreaterThan(0);
    await page.goto(`${DIRECTOR}/settings`);
    await page.getByRole('button', { name: 'Clear table…' }).click();
    const dialog = page.getByRole('dialog');
    const confirm = dialog.getByRole('button', { name: 'Clear the table' });
    await expect(confirm).toBeDisabled();
    const typed = dialog.getByLabel(/to confirm/);
    // the label names the words that confirm: the director's name first, then "clear"
    const name = (await dialog.locator('label code').first().textContent())!;
    expect(await dialog.locator('label code').nth(1).textContent()).toBe('clear');
    await typed.fill(`${name}2`);
    await expect(confirm).toBeDisabled();
    await typed.press('Enter');
    expect((await savedRules()).sort()).toEqual(before);
    await typed.fill(name);
    await expect(confirm).toBeEnabled();
    await screen(page, 'parity-clear-confirm');
    await confirm.click();
    await expect(dialog).toBeHidden();
    await until('table cleared', async () => (await savedRules()).length === 0);
    const [entry] = await agent().journal.list.query({ limit: 1 });
    expect(entry).toMatchObject({ op: 'table.clear', state: 'done' });
    await page.goto(DIRECTOR);
    await expect(page.getByText('No virtual services on this director.')).toBeVisible();
    await screen(page, 'parity-cleared');
    // undo from the Snapshots page's journal
    await page.goto(`${DIRECTOR}/snapshots`);
    await page.getByRole('row').filter({ hasText: 'Cleared the table' }).first().getByRole('button', { name: 'Undo', exact: true }).click();
    const undoDialog = page.getByRole('dialog');
    await expect(undoDialog).toContainText(`Undo #${entry!.id}`);
    await undoDialog.getByRole('button', { name: 'Undo', exact: true }).click();
    await until('table back', async () => JSON.stringify((await savedRules()).sort()) === JSON.stringify(before));
  });
});
