/**
 * Prometheus metrics from the shared sampler's latest dump (a scrape never
 * makes its own kernel call). Labels are the service and destination ids, so
 * cardinality follows the table; above `maxSeries` objects the rest are left
 * out and `director_ipvs_metrics_truncated` says so. The per-object families
 * are written by object-metrics.ts; prom-client keeps the agent's own.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { TableHub } from './hub';
import { renderObjectMetrics } from './object-metrics';

export interface AgentMetrics {
  registry: Registry;
  wsClients: Gauge;
  /** The exposition text in pieces to write in order; with no subscriber the hub samples rarely, so a stale sample is refreshed first. */
  render(): Promise<string[]>;
}

export function createMetrics(hub: TableHub, opts: { maxSeries?: number } = {}): AgentMetrics {
  const max = opts.maxSeries ?? 5000;
  const registry = new Registry();
  // the event-loop lag monitor wakes the process every `precision` ms: at prom-client's default 10 ms that
  // was most of an idle agent's CPU in the lab kernel (1% of a core even on the host); 1 s is enough for lag
  collectDefaultMetrics({ register: registry, prefix: 'director_agent_', eventLoopMonitoringPrecision: 1000 });

  // registered first: the registry reads metrics in order, and this one's collect refreshes the others
  const services = new Gauge({ name: 'director_ipvs_services', help: 'Virtual services in the table', registers: [registry], collect: () => refresh() });
  const truncated = new Gauge({ name: 'director_ipvs_metrics_truncated', help: '1 when some objects were left out to bound cardinality', registers: [registry] });
  const samples = new Gauge({ name: 'director_agent_samples', help: 'Table samples taken since start', registers: [registry] });
  const quietSamples = new Gauge({ name: 'director_agent_quiet_samples', help: 'Samples that found the table unchanged and every rate 0 (no counter reads, nothing to send)', registers: [registry] });
  const wsClients = new Gauge({ name: 'director_agent_websocket_clients', help: 'Connected WebSocket clients', registers: [registry] });
  const subscribers = new Gauge({ name: 'director_agent_subscribers', help: 'Subscriptions to stats ticks or change events (none: the hub samples only occasionally)', registers: [registry] });
  const stageSeconds = new Counter({ name: 'director_agent_sample_stage_seconds_total', help: 'Wall time spent per stage of table sampling', labelNames: ['stage'] as const, registers: [registry] });

  let objects: { pieces: string[]; truncated: boolean } = { pieces: [], truncated: false };
  // the agent's own gauges, from the same sample as the per-object families
  function refresh(): void {
    services.set(hub.latest()?.length ?? 0);
    samples.set(hub.samples);
    quietSamples.set(hub.quietSamples);
    subscribers.set(hub.subscribers);
    stageSeconds.reset();
    for (const [stage, ms] of Object.entries(hub.stageTimes())) if (stage !== 'destDumps') stageSeconds.inc({ stage }, ms / 1000);
    truncated.set(objects.truncated ? 1 : 0);
  }
  return {
    registry, wsClients,
    async render() {
      // collects run concurrently in prom-client, so the sample must be fresh before any of them
      await hub.fresh(hub.tickMs * 2).catch(() => null);
      objects = renderObjectMetrics(hub.latest() ?? [], max);
      return [await registry.metrics(), '\n', ...objects.pieces];
    },
  };
}
