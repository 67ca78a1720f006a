/**
 * The Grafana dashboard's structure, and that every metric it queries is a
 * family the agent serves (the lab test server/lab/prometheus.lab-test.ts
 * runs the queries themselves against Debian's Prometheus).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { disabledStatus } from '@/server/ha/service';
import { createMetrics } from '@/server/live/metrics';
import type { TableHub } from '@/server/live/hub';
import type { ConnSource } from '@/server/live/conn-source';
import { ConnSummarizer } from '@/lib/conn/summary';

interface Target { expr: string; refId: string; datasource: { uid: string } }
interface Panel { type: string; title: string; datasource?: { uid: string }; targets?: Target[] }
const dash = JSON.parse(readFileSync(path.join(import.meta.dirname, 'director.json'), 'utf8')) as {
  uid: string; panels: Panel[]; templating: { list: { name: string; type: string; query: unknown }[] };
};
const panels = dash.panels.filter((p) => p.type !== 'row');

/** Every family name the agent can serve, from one scrape with every source present. */
async function servedFamilies(): Promise<Set<string>> {
  const hub = { latest: () => [], fresh: async () => {}, tickMs: 1000, samples: 0, quietSamples: 0, subscribers: 0, stageTimes: () => ({}) } as unknown as TableHub;
  const conns: ConnSource = { list: () => Promise.reject(new Error('unused')), summary: async () => ({ at: Date.now(), summary: new ConnSummarizer().result() }) };
  const m = createMetrics(hub, { conns, health: { list: () => [], transitionCounts: () => [] } as never, ha: { status: () => ({ ...disabledStatus('d'), enabled: true }) } as never });
  const text = (await m.render()).join('');
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((x) => x[1]!));
}

describe('deploy/grafana/director.json', () => {
  it('has a datasource variable that every panel and target uses, and director and service variables', () => {
    const vars = Object.fromEntries(dash.templating.list.map((v) => [v.name, v.type]));
    expect(vars).toEqual({ datasource: 'datasource', instance: 'query', service: 'query' });
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.datasource.uid, p.title).toBe('${datasource}');
    }
  });

  it('covers services, real servers, health, HA and connection states', () => {
    const exprs = panels.flatMap((p) => p.targets!.map((t) => t.expr)).join('\n');
    for (const f of ['director_ipvs_service_connections_total', 'director_ipvs_service_bytes_total', 'director_ipvs_destination_connections_total',
      'director_health_state', 'director_ha_vrrp_state', 'director_ha_lease_held', 'director_ha_failovers_total', 'director_ipvs_conn_entries']) {
      expect(exprs).toContain(f);
    }
  });

  it('queries only families the agent serves', async () => {
    const served = await servedFamilies();
    const used = new Set(panels.flatMap((p) => p.targets!.flatMap((t) => [...t.expr.matchAll(/\b(director_[a-z_]+)\b/g)].map((m) => m[1]!))));
    const unknown = [...used].filter((n) => !served.has(n));
    expect(unknown).toEqual([]);
    expect(used.size).toBeGreaterThan(10);
  });
});
