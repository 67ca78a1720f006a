import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONN_HEADER } from '@/lib/conn/format';
import { ConnScanner } from '@/lib/conn/parse';
import { ConnSummarizer, type ConnSummary } from '@/lib/conn/summary';
import type { HaStatus } from '@/lib/schemas/ha';
import { disabledStatus } from '../ha/service';
import type { HealthRow } from '../health/service';
import { createMetrics } from './metrics';
import type { ConnSource } from './conn-source';
import type { TableHub } from './hub';
import { renderConnMetrics, renderHaMetrics, renderHealthMetrics } from './status-metrics';

function summarize(text: string): ConnSummary {
  const s = new ConnSummarizer();
  const sc = new ConnScanner(s.add);
  sc.push(text);
  sc.end();
  return s.result(sc.malformed);
}

const T = (cport: string, rip: string, state: string) => `TCP C0A896C8 ${cport} C0A89664 0050 ${rip} 0050 ${state.padEnd(11)}     100\n`;
// VIP 192.168.150.100:80 → rs1 .12 (C0A8960C), rs2 .13 (C0A8960D); one template
const TABLE = CONN_HEADER + T('C350', 'C0A8960C', 'ESTABLISHED') + T('C351', 'C0A8960C', 'ESTABLISHED') + T('C352', 'C0A8960D', 'SYN_RECV')
  + T('C353', 'C0A8960D', 'FIN_WAIT') + 'TCP C0A896C8 0000 C0A89664 0050 C0A8960D 0050 NONE            300\n';

const row = (over: Partial<HealthRow>): HealthRow => ({
  service: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: 80 }, serviceId: 'tcp:192.168.150.100:80',
  destination: { family: 'inet', address: '192.168.150.12', port: 80 }, destinationId: '192.168.150.12:80',
  state: 'up', health: 'up', maintenance: false, since: 0, message: 'HTTP 200', latencyMs: 12, lastCheckedAt: 0, failures: 0,
  checks: ['HTTP GET /'], configuredWeight: 1, kept: false, ...over,
});

const haStatus = (): HaStatus => ({
  ...disabledStatus('lvs1'), enabled: true,
  zookeeper: { state: 'connected', since: 0, sessionTimeoutMs: 2000, failStatic: false, message: null },
  groups: [{ name: 'lan', vips: ['192.168.150.100/24'], virtualRouterId: 51, priority: 150, preempt: false, vrrpState: 'MASTER',
    vipsPresent: ['192.168.150.100/24'], leaseHolder: 'lvs1', fenced: false, fenceReason: null, maintenance: false }],
});

describe('health families', () => {
  const text = renderHealthMetrics([
    row({}),
    row({ destination: { family: 'inet', address: '192.168.150.13', port: 80 }, destinationId: '192.168.150.13:80', state: 'down', health: 'down', latencyMs: 3000, failures: 4 }),
    row({ destinationId: '192.168.150.14:80', state: 'unchecked', health: 'unchecked', latencyMs: null }),
  ], [{ serviceId: 'tcp:192.168.150.100:80', destinationId: '192.168.150.13:80', to: 'down', count: 2 }]);

  it('one 0/1 series per state of each checked real server; unchecked ones are left out', () => {
    expect(text).toContain('director_health_state{service="tcp:192.168.150.100:80",destination="192.168.150.12:80",state="up"} 1\n');
    expect(text).toContain('director_health_state{service="tcp:192.168.150.100:80",destination="192.168.150.12:80",state="down"} 0\n');
    expect(text).toContain('director_health_state{service="tcp:192.168.150.100:80",destination="192.168.150.13:80",state="down"} 1\n');
    expect(text).not.toContain('192.168.150.14');
  });

  it('the last check duration in seconds, failures in a row and transitions as a counter', () => {
    expect(text).toContain('director_health_last_check_duration_seconds{service="tcp:192.168.150.100:80",destination="192.168.150.13:80"} 3\n');
    expect(text).toContain('director_health_consecutive_failures{service="tcp:192.168.150.100:80",destination="192.168.150.13:80"} 4\n');
    expect(text).toContain('# TYPE director_health_transitions_total counter\n');
    expect(text).toContain('director_health_transitions_total{service="tcp:192.168.150.100:80",destination="192.168.150.13:80",to="down"} 2\n');
  });
});

describe('HA families', () => {
  it('VRRP state one-hot, lease, fence, failovers per group', () => {
    const text = renderHaMetrics(haStatus(), { failovers: { lan: 3 } });
    expect(text).toContain('director_ha_enabled 1\n');
    expect(text).toContain('director_ha_vrrp_state{group="lan",state="MASTER"} 1\n');
    expect(text).toContain('director_ha_vrrp_state{group="lan",state="BACKUP"} 0\n');
    expect(text).toContain('director_ha_lease_held{group="lan"} 1\n');
    expect(text).toContain('director_ha_fenced{group="lan"} 0\n');
    expect(text).toContain('director_ha_vips_present{group="lan"} 1\n');
    expect(text).toContain('director_ha_failovers_total{group="lan"} 3\n');
    expect(text).toContain('director_ha_zookeeper_connected 1\n');
  });

  it('without HA: only director_ha_enabled 0, no group series', () => {
    const text = renderHaMetrics(disabledStatus('d1'), null);
    expect(text).toContain('director_ha_enabled 0\n');
    expect(text).not.toMatch(/^director_ha_(vrrp|lease|fenced|failovers)[^ ]*\{/m);
  });
});

describe('connection-state families', () => {
  const s = summarize(TABLE);

  it('entries per service, real server and state (non-zero only), templates apart', () => {
    const text = renderConnMetrics(s, { ageSeconds: 0.5, readSeconds: 0.01 }, 100);
    expect(text).toContain('director_ipvs_conn_entries{service="tcp:192.168.150.100:80",destination="192.168.150.12:80",state="ESTABLISHED"} 2\n');
    expect(text).toContain('director_ipvs_conn_entries{service="tcp:192.168.150.100:80",destination="192.168.150.13:80",state="SYN_RECV"} 1\n');
    expect(text).not.toContain('destination="192.168.150.12:80",state="SYN_RECV"');
    expect(text).toContain('director_ipvs_conn_templates{service="tcp:192.168.150.100:80",destination="192.168.150.13:80"} 1\n');
    expect(text).toContain('director_ipvs_conn_read_age_seconds 0.5\n');
    expect(text).toContain('director_ipvs_conn_metrics_truncated 0\n');
  });

  it('past maxSeries the remaining real servers are left out and the truncation is flagged', () => {
    const text = renderConnMetrics(s, { ageSeconds: 0, readSeconds: 0 }, 1);
    expect(text).toContain('192.168.150.12:80');
    expect(text).not.toContain('192.168.150.13:80');
    expect(text).toContain('director_ipvs_conn_metrics_truncated 1\n');
  });

  it('a state outside the kernel\'s known set is counted as other, not as a label value of its own', () => {
    const odd = summarize(CONN_HEADER + T('C350', 'C0A8960C', 'WEIRD_STATE'));
    const text = renderConnMetrics(odd, { ageSeconds: 0, readSeconds: 0 }, 100);
    expect(text).toContain('state="other"} 1\n');
    expect(text).not.toContain('WEIRD_STATE');
  });
});

/** A hub with one empty sample: enough for the agent's own families. */
const hub = { latest: () => [], fresh: async () => {}, tickMs: 1000, samples: 5, quietSamples: 2, subscribers: 0, stageTimes: () => ({}) } as unknown as TableHub;

describe('createMetrics with every source', () => {
  it('a scrape does not wait for a slow walk of the connection table: it serves the last summary, and reuses a recent one', async () => {
    let walks = 0;
    let release: () => void = () => {};
    const summary = summarize(TABLE);
    const conns: ConnSource = {
      list: () => Promise.reject(new Error('not used')),
      summary: async () => {
        walks++;
        if (walks > 1) await new Promise<void>((r) => { release = r; });
        return { at: Date.now(), summary, ms: 7 };
      },
    };
    const m = createMetrics(hub, { conns, connMaxAgeMs: 50, connWaitMs: 100 });
    const first = (await m.render()).join('');
    expect(first).toContain('director_ipvs_conn_read_duration_seconds 0.007\n');
    expect((await m.render()).join('')).toContain('state="ESTABLISHED"');
    expect(walks).toBe(1);
    await new Promise((r) => setTimeout(r, 80));
    const t0 = Date.now();
    const stale = (await m.render()).join('');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(walks).toBe(2);
    expect(stale).toContain('state="ESTABLISHED"');
    expect(Number(/^director_ipvs_conn_read_age_seconds (\S+)$/m.exec(stale)?.[1])).toBeGreaterThan(0.05);
    release();
  });

  // promtool is Debian's prometheus package (scripts/install.mjs installs it for the lab-start suite)
  const promtool = '/usr/bin/promtool';
  it.skipIf(!existsSync(promtool))('promtool check metrics accepts the whole exposition and finds no naming problem', async () => {
    const health = { list: () => [row({})], transitionCounts: () => [{ serviceId: 'tcp:192.168.150.100:80', destinationId: '192.168.150.12:80', to: 'up', count: 1 }] };
    const ha = { status: haStatus, counts: () => ({ failovers: { lan: 1 } }) };
    const conns: ConnSource = { list: () => Promise.reject(new Error('not used')), summary: async () => ({ at: Date.now(), summary: summarize(TABLE), ms: 3 }) };
    const m = createMetrics(hub, { conns, health: health as never, ha: ha as never });
    const text = (await m.render()).join('');
    const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    // prom-client's own default gauges (nodejs_active_*_total) break the _total rule upstream; nothing of ours may
    const ours = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l && !/^director_agent_nodejs_active_(handles|requests|resources)_total non-counter/.test(l));
    expect(ours).toEqual([]);
  });
});
if (!existsSync('/usr/bin/promtool')) console.warn('promtool check skipped: /usr/bin/promtool missing (apt-get install prometheus; scripts/install.mjs does)');
