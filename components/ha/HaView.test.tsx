import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { buildClusterView } from './cluster';
import { T0 } from './fixtures';
import { HaView, preemptLine, type HaActions } from './HaView';
import { HA_SCENARIOS } from './scenarios';

const operator: HaActions = { disabledReason: () => null, handover: async () => undefined, maintenance: async () => undefined, confirmReplicated: async () => undefined };
const viewer: HaActions = { ...operator, disabledReason: () => 'Signed in as v (viewer)' };

function render(name: string, actions = operator): { html: string; text: string } {
  const sc = HA_SCENARIOS.find((s) => s.name === name)!;
  const view = buildClusterView(sc.directors, sc.feeds(), T0, new Map(sc.alarmSince ?? []));
  const html = renderToStaticMarkup(<HaView view={view} now={T0} actions={actions} />);
  return { html, text: html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ') };
}

describe('HaView', () => {
  it('healthy pair: no alarm, holder per VIP, VRRP states with their colours, sync roles, one hand-over button on the holder', () => {
    const { html, text } = render('healthy');
    expect(html).not.toContain('aria-label="HA alarms"');
    expect(html).toMatch(/data-vip="192.168.150.100".*?lvs1/);
    expect(html).toMatch(/bg-ok\/10[^>]*>MASTER</);
    expect(html).toMatch(/bg-accent\/10[^>]*>BACKUP</);
    expect(text).toContain('Lease: lvs1');
    expect(text).toContain('nopreempt');
    expect(text).toContain(preemptLine(false));
    expect(text.match(/Hand over/g)).toHaveLength(1);
    expect(html).toMatch(/data-director="lvs1".*?Hand over/);
    expect(text).toContain('master hb0 · syncid 51');
    expect(text).toContain('backup hb0 · syncid 51');
  });

  it('split brain: a danger alarm first, the VIP row marked on both directors', () => {
    const { html, text } = render('split-brain');
    const alarmAt = html.indexOf('aria-label="HA alarms"');
    expect(alarmAt).toBeGreaterThan(-1);
    expect(alarmAt).toBeLessThan(html.indexOf('aria-label="Directors"'));
    expect(text).toContain('Split brain: 192.168.150.100 is on lvs1 and lvs2 at once since 2 s');
    expect(text).toContain('on 2 directors');
    expect(html).toMatch(/bg-ok\/10[^>]*>MASTER<.*bg-ok\/10[^>]*>MASTER</s);
  });

  it('ZooKeeper down: one loud fail-static banner and the replication error', () => {
    const { text } = render('zookeeper-down');
    expect(text).toContain('ZooKeeper is unreachable: lvs1 and lvs2 keep serving as is (fail static)');
    expect(text).toContain('not replicated: ZooKeeper unreachable');
    expect(text).toContain('(uncertain)');
  });

  it('agent unreachable: banner, last-known VIPs marked as maybe, actions disabled for it', () => {
    const { html, text } = render('agent-unreachable');
    expect(text).toContain('The agent of lvs1 does not answer');
    expect(text).toContain('lvs1?');
    expect(text).toContain('agent unreachable');
    expect(text).toContain('last received 7 s ago');
    // lvs2 holds the lease now: the hand-over button is on its row, and lvs1's maintenance is disabled
    expect(html).toMatch(/data-director="lvs2".*?Hand over/);
    expect(html).toMatch(/disabled=""[^>]*title="The agent does not answer\."/);
  });

  it('fenced director: reason shown next to FAULT', () => {
    const { html, text } = render('fenced');
    expect(html).toMatch(/bg-danger\/10[^>]*>FAULT</);
    expect(text).toContain('fenced ZooKeeper session expired and lvs2 still reaches ZooKeeper');
    expect(text).toContain('lvs1 is not connected to ZooKeeper (expired)');
  });

  it('maintenance: badge and the End maintenance action; preempt explained', () => {
    const { text } = render('maintenance');
    expect(text).toContain('End maintenance');
    expect(text).toContain(preemptLine(true));
  });

  it('viewer: actions are disabled and say why', () => {
    const { html } = render('healthy', viewer);
    expect(html.match(/disabled=""[^>]*title="Signed in as v \(viewer\)"/g)?.length).toBe(3);
  });

  it('a refused replicated table: a danger alarm and a red line in the director\'s replication facts', () => {
    const { html, text } = render('table-refused');
    expect(html.indexOf('aria-label="HA alarms"')).toBeGreaterThan(-1);
    expect(text).toContain('Replicated table refused on lvs1');
    expect(text).toContain('Nothing was applied: unsigned: the shared table is not a signed payload');
    expect(html).toMatch(/class="text-danger"[^>]*data-testid="table-refused"[^>]*>refused 5 s ago, nothing applied: unsigned/);
  });

  it('a held replicated change: alarm, what it removes, and a Confirm action for operators only', () => {
    const { html, text } = render('table-held');
    expect(text).toContain('Replicated change held on lvs2');
    expect(text).toContain('it removes every service (2 of 2)');
    expect(text).toContain('TCP 192.168.150.100:80, TCP 192.168.150.100:8090');
    expect(html).toMatch(/data-testid="table-held".*?Confirm…/s);
    const v = render('table-held', viewer);
    expect(v.html).toMatch(/disabled=""[^>]*title="Signed in as v \(viewer\)"[^>]*>Confirm…/);
  });

  it('no HA config: says how to enable it', () => {
    const { text } = render('not-configured');
    expect(text).toContain('Directors without high availability');
    expect(text).toContain('--ha-config');
    expect(text).toContain('npm start -- --ha');
    expect(text).not.toContain('Transitions');
  });

  it('master-master: both groups side by side with master and lease each, the DNS answer', () => {
    const { html, text } = render('master-master');
    expect(html).toContain('aria-label="VIP groups"');
    expect(html).toMatch(/aria-label="VIP groups"[^>]*xl:grid-cols-2|xl:grid-cols-2[^>]*aria-label="VIP groups"/);
    expect(text).toContain('VIP group g100');
    expect(text).toContain('VIP group g101');
    expect(text).toMatch(/g100 VRID 51 nopreempt Master: lvs1 · Lease: lvs1/);
    expect(text).toMatch(/g101 VRID 52 nopreempt Master: lvs2 · Lease: lvs2/);
    expect(html).toMatch(/data-testid="dns-resolved".*192\.168\.150\.100.*192\.168\.150\.101/);
    expect(text).toContain('DNS in front www.director.test');
    // both daemons on both directors
    expect(text.match(/master hb0 · syncid 51/g)).toHaveLength(2);
    expect(text.match(/backup hb0 · syncid 51/g)).toHaveLength(2);
    expect(html).not.toContain('aria-label="HA alarms"');
  });

  it('master-master with lvs1 gone: lvs2 master of both, the fleet alarm', () => {
    const { text } = render('master-master-one-holds-both');
    expect(text).toContain('lvs2 holds every VIP group (g100, g101) since 12 s');
    expect(text).toMatch(/g100 VRID 51 nopreempt Master: lvs2 · Lease: lvs2/);
  });
});
