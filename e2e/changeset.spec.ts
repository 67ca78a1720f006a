/**
 * Change sets in the browser against the lab kernel: two edits staged from
 * the forms ("Add to draft") leave the kernel alone; the draft page shows
 * the diff against the live table and the verdict's finding; a flagged draft
 * applies only once acknowledged, as one journal entry; one undo puts
 * `ipvsadm -Sn` back as it was. And a canary: a real server added to the
 * lab's DR service at an address inside the lab where nothing answers is
 * rolled back by itself while the lab's traffic runs.
 */
import { agent, ipvsadm, savedRules } from './lab';
import { ServiceFormDialog, ServicePage } from './pages/console';
import { DIRECTOR, expect, screen, servicePath, test } from './fixtures';

const VIP = '192.168.150.100';
const PORT = 9393;
const SVC = `${VIP}:${PORT}`;
const RS1 = '192.168.150.12:80';
const RS2 = '192.168.150.13:80';

async function cleanUp(): Promise<void> {
  if ((await savedRules()).some((l) => l.startsWith(`-A -t ${SVC} `))) await ipvsadm('-D', '-t', SVC);
  await agent().changesets.discard.mutate().catch(() => undefined);
}

test.describe('change sets', () => {
  test.beforeEach(cleanUp);
  test.afterEach(cleanUp);

  test('two staged edits show their diff and verdict, apply as one journal entry, and one undo reverts them', async ({ operator: page }) => {
    await ipvsadm('-A', '-t', SVC, '-s', 'rr');
    await ipvsadm('-a', '-t', SVC, '-r', RS1, '-m', '-w', '1');
    await ipvsadm('-a', '-t', SVC, '-r', RS2, '-m', '-w', '1');
    const before = await ipvsadm('-Sn');
    const beforeRules = await savedRules();

    await page.goto(servicePath('tcp', VIP, PORT));
    const svc = new ServicePage(page);
    await expect(svc.weightCell(RS2)).toHaveText('1');
    // edit 1: remove RS1, staged from the confirmation
    await svc.realServerRow(RS1).getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Add to draft' }).click();
    await expect(page.getByRole('dialog')).toBeHidden();
    // edit 2: RS2 to weight 0, staged from the form
    await svc.realServerRow(RS2).getByRole('button', { name: 'Edit' }).click();
    const form = new ServiceFormDialog(page);
    await form.field('Weight').fill('0');
    await form.dialog().getByRole('button', { name: 'Add to draft' }).click();
    await expect(form.dialog()).toBeHidden();
    await expect(page.getByTestId('draft-banner')).toContainText('2 staged edits');
    // staged, not applied
    expect(await ipvsadm('-Sn')).toBe(before);

    await page.getByRole('link', { name: 'Review the draft' }).click();
    await expect(page).toHaveURL(`${DIRECTOR}/draft`);
    const panel = page.getByTestId('draft-panel');
    await expect(panel.getByRole('list', { name: 'Staged edits' }).getByRole('listitem')).toHaveText([
      /delete real server 192\.168\.150\.12:80 from TCP 192\.168\.150\.100:9393/,
      /edit real server 192\.168\.150\.13:80 of TCP 192\.168\.150\.100:9393: weight 0 \(operator\)/,
    ]);
    const diff = page.getByTestId('draft-diff');
    await expect(diff).toContainText(`- -a -t ${SVC} -r ${RS1} -m -w 1`);
    await expect(diff).toContainText(`~ -a -t ${SVC} -r ${RS2} -m -w 0`);
    const finding = page.getByTestId('finding').filter({ hasText: 'would be left with no healthy real server' });
    await expect(finding).toBeVisible();
    await expect(finding).toContainText('critical');
    await expect(finding).toContainText('new connections to the VIP are refused');
    await screen(page, 'changeset-draft');

    // flagged: Apply waits for the acknowledgement
    const apply = page.getByRole('button', { name: 'Apply 2 edits' });
    await expect(apply).toBeDisabled();
    await page.getByRole('checkbox', { name: /I have read the findings/ }).check();
    await apply.click();
    const done = page.getByRole('status').filter({ hasText: /as journal entry #\d+/ });
    await expect(done).toBeVisible();
    const id = Number((await done.textContent())!.match(/#(\d+)/)![1]);
    expect((await savedRules()).filter((l) => l.includes(` ${SVC} `))).toEqual([`-A -t ${SVC} -s rr`, `-a -t ${SVC} -r ${RS2} -m -w 0`]);
    // one journal entry for both edits
    const entries = await agent().journal.list.query({ limit: 5 });
    expect(entries[0]).toMatchObject({ id, op: 'changeset.apply', state: 'done' });
    expect(entries.filter((e) => e.op === 'changeset.apply' && e.id === id)).toHaveLength(1);
    expect(entries[1]?.op).not.toBe('destinations.remove');
    await screen(page, 'changeset-applied');

    await page.getByRole('button', { name: 'Undo change set' }).click();
    await expect(page.getByRole('status').filter({ hasText: `Change set #${id} undone` })).toBeVisible();
    // the same rules (the kernel lists a real server put back first, so the order within the service may differ)
    expect((await savedRules()).sort()).toEqual([...beforeRules].sort());
    // the journal on the snapshots page names it
    await page.goto(`${DIRECTOR}/snapshots`);
    await expect(page.getByText('Applied a change set').first()).toBeVisible();
  });

  test('a canary rolls a change set back by itself when the new real server answers nothing', async ({ operator: page }) => {
    const DR = `${VIP}:80`;
    const DEAD = '192.168.150.50';
    const before = await savedRules();
    await agent().lab.setRate.mutate({ rate: 10 });
    try {
      await agent().changesets.stage.mutate({ edit: {
        op: 'destination.create', service: { kind: 'addr', family: 'inet', protocol: 'tcp', address: VIP, port: 80 },
        destination: { family: 'inet', address: DEAD, port: 80, forward: 'dr', weight: 1 },
      } });
      await page.goto(`${DIRECTOR}/draft`);
      await expect(page.getByTestId('draft-diff')).toContainText(`+ -a -t ${DR} -r ${DEAD}:80 -g -w 1`);
      const ack = page.getByRole('checkbox', { name: /I have read the findings/ });
      if (await ack.count()) await ack.check();
      await page.getByRole('checkbox', { name: /^Canary/ }).check();
      await page.getByLabel('Canary seconds').fill('90');
      await page.getByRole('button', { name: 'Apply 1 edit' }).click();
      await expect(page.getByRole('status').filter({ hasText: /as journal entry #\d+/ })).toBeVisible();
      expect(await savedRules()).toContain(`-a -t ${DR} -r ${DEAD}:80 -g -w 1`);
      const canary = page.getByTestId('canary');
      await expect(canary).toContainText('rolled back by itself', { timeout: 60_000 });
      await expect(canary).toContainText(`connections to new real server ${DEAD}:80 are stuck in SYN_RECV and none is established`);
      await expect(page.getByRole('status').filter({ hasText: /was applied, then rolled back by its canary/ })).toBeVisible();
      await expect(page.getByRole('button', { name: 'Undo change set' })).toHaveCount(0);
      await screen(page, 'changeset-canary-rolled-back');
      expect(await savedRules()).toEqual(before);
      const [undo] = await agent().journal.list.query({ limit: 1 });
      expect(undo).toMatchObject({ op: 'changeset.canary-rollback', actor: 'canary', state: 'done', note: expect.stringMatching(/^canary: /) });
    } finally {
      await agent().lab.setRate.mutate({ rate: 2 });
    }
  });
});
