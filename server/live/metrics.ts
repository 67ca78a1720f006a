/**
 * Prometheus metrics from the shared sampler's latest dump (a scrape never
 * makes its own kernel call). Labels are the service and destination ids, so
 * cardinality follows the table; above `maxSeries` objects the rest are left
 * out and `director_ipvs_metrics_truncated` says so. The per-object families
 * are written by object-metrics.ts, the health, HA and connection-state ones
 * by status-metrics.ts; prom-client keeps the agent's own.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { HealthService } from '../health/service';
import type { HaService } from '../ha/service';
import type { ConnSource, ConnSummary } from './conn-source';
import type { TableHub } from './hub';
import { renderObjectMetrics } from './object-metrics';
import { renderConnMetrics, renderHaMetrics, renderHealthMetrics } from './status-metrics';

export interface AgentMetrics {
  registry: Registry;
  wsClients: Gauge;
  /** The exposition text in pieces to write in order; with no subscriber the hub samples rarely, so a stale sample is refreshed first. */
  render(): Promise<string[]>;
}

export interface MetricsSources {
  maxSeries?: number;
  health?: HealthService | null;
  ha?: HaService | null;
  conns?: ConnSource | null;
  /** a connection summary younger than this is reused (ms; default 5 s): scrapes share the reader's walks */
  connMaxAgeMs?: number;
  /** a scrape waits at most this long for a fresh walk of the connection table, then serves the last one (ms) */
  connWaitMs?: number;
}

export function createMetrics(hub: TableHub, opts: MetricsSources = {}): AgentMetrics {
  const max = opts.maxSeries ?? 5000;
  const registry = new Registry();
  // the event-loop lag monitor wakes the process every `precision` ms: at prom-client's default 10 ms that
  // was most of an idle agent's CPU in the lab kernel (1% of a core even on the host); 1 s is enough for lag
  collectDefaultMetrics({ register: registry, prefix: 'director_agent_', eventLoopMonitoringPrecision: 1000 });

  // registered first: the registry reads metrics in order, and this one's collect refreshes the others
  const services = new Gauge({ name: 'director_ipvs_services', help: 'Virtual services in the table', registers: [registry], collect: () => refresh() });
  const truncated = new Gauge({ name: 'director_ipvs_metrics_truncated', help: '1 when some objects were left out to bound cardinality', registers: [registry] });
  const samples = new Counter({ name: 'director_agent_samples_total', help: 'Table samples taken since start', registers: [registry] });
  const quietSamples = new Counter({ name: 'director_agent_quiet_samples_total', help: 'Samples that found the table unchanged and every rate 0 (no counter reads, nothing to send)', registers: [registry] });
  const wsClients = new Gauge({ name: 'director_agent_websocket_clients', help: 'Connected WebSocket clients', registers: [registry] });
  const subscribers = new Gauge({ name: 'director_agent_subscribers', help: 'Subscriptions to stats ticks or change events (none: the hub samples only occasionally)', registers: [registry] });
  const stageSeconds = new Counter({ name: 'director_agent_sample_stage_seconds_total', help: 'Wall time spent per stage of table sampling', labelNames: ['stage'] as const, registers: [registry] });

  let objects: { pieces: string[]; truncated: boolean } = { pieces: [], truncated: false };
  // the agent's own gauges, from the same sample as the per-object families
  function refresh(): void {
    services.set(hub.latest()?.length ?? 0);
    // counters mirror the hub's own counts (reset then set: prom-client counters only go up)
    samples.reset();
    samples.inc(hub.samples);
    quietSamples.reset();
    quietSamples.inc(hub.quietSamples);
    subscribers.set(hub.subscribers);
    stageSeconds.reset();
    for (const [stage, ms] of Object.entries(hub.stageTimes())) if (stage !== 'destDumps') stageSeconds.inc({ stage }, ms / 1000);
    truncated.set(objects.truncated ? 1 : 0);
  }

  const conns = opts.conns ?? null;
  const connMaxAgeMs = opts.connMaxAgeMs ?? 5000;
  const connWaitMs = opts.connWaitMs ?? 1000;
  /** `ms`: how long the walk took, which procConnSource's walks carry */
  let conn: { at: number; summary: ConnSummary; ms?: number } | null = null;
  let walking: Promise<void> | null = null;
  /**
   * The reader's latest summary: a scrape reuses one younger than connMaxAgeMs (the console's summary
   * subscribers walk every tick, and summary() shares those walks), and never waits long for a new walk
   * (100,000 entries take seconds to walk in the lab kernel): it serves the older one and says how old.
   */
  async function connSummary(): Promise<typeof conn> {
    if (!conns) return null;
    if (!conn || Date.now() - conn.at > connMaxAgeMs) {
      walking ??= conns.summary(connMaxAgeMs).then((s) => { conn = s; }, () => { /* served without connection series */ })
        .finally(() => { walking = null; });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([walking, new Promise<void>((r) => { timer = setTimeout(r, connWaitMs); })]);
      clearTimeout(timer);
    }
    return conn;
  }

  return {
    registry, wsClients,
    async render() {
      // collects run concurrently in prom-client, so the sample must be fresh before any of them
      const [, c] = await Promise.all([hub.fresh(hub.tickMs * 2).catch(() => null), connSummary()]);
      objects = renderObjectMetrics(hub.latest() ?? [], max);
      const status: string[] = [];
      if (opts.health) status.push(renderHealthMetrics(opts.health.list(), opts.health.transitionCounts()));
      if (opts.ha) status.push(renderHaMetrics(opts.ha.status(), opts.ha.counts?.() ?? null));
      if (c) status.push(renderConnMetrics(c.summary, { ageSeconds: Math.max(0, Date.now() - c.at) / 1000, readSeconds: (c.ms ?? 0) / 1000 }, max));
      return [await registry.metrics(), '\n', ...objects.pieces, ...status.map((s) => `\n${s}`)];
    },
  };
}
