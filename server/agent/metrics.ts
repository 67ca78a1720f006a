/**
 * Prometheus metrics from the shared sampler's latest dump (a scrape never
 * makes its own kernel call). Labels are the service and destination ids, so
 * cardinality follows the table; above `maxSeries` objects the rest are left
 * out and `director_ipvs_metrics_truncated` says so.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { destinationId, serviceId } from '@/lib/agent/ids';
import type { TableHub } from './hub';

export interface AgentMetrics {
  registry: Registry;
  wsClients: Gauge;
  /** The exposition text; with no subscriber the hub samples rarely, so a stale sample is refreshed first. */
  render(): Promise<string>;
}

export function createMetrics(hub: TableHub, opts: { maxSeries?: number } = {}): AgentMetrics {
  const max = opts.maxSeries ?? 5000;
  const registry = new Registry();
  // the event-loop lag monitor wakes the process every `precision` ms: at prom-client's default 10 ms that
  // was most of an idle agent's CPU in the lab kernel (1% of a core even on the host); 1 s is enough for lag
  collectDefaultMetrics({ register: registry, prefix: 'director_agent_', eventLoopMonitoringPrecision: 1000 });

  const svcLabels = ['service'] as const;
  const destLabels = ['service', 'destination'] as const;
  const dirLabels = ['service', 'direction'] as const;
  const destDirLabels = ['service', 'destination', 'direction'] as const;

  // registered first: the registry reads metrics in order, and this one's collect refreshes the others
  const services = new Gauge({ name: 'director_ipvs_services', help: 'Virtual services in the table', registers: [registry], collect: () => refresh() });

  // Counters mirror kernel counters: reset-and-set at scrape time; a ZERO shows as a counter reset.
  const svcConns = new Counter({ name: 'director_ipvs_service_connections_total', help: 'Connections scheduled by the virtual service', labelNames: svcLabels, registers: [registry] });
  const svcPkts = new Counter({ name: 'director_ipvs_service_packets_total', help: 'Packets through the virtual service', labelNames: dirLabels, registers: [registry] });
  const svcBytes = new Counter({ name: 'director_ipvs_service_bytes_total', help: 'Bytes through the virtual service', labelNames: dirLabels, registers: [registry] });
  const dConns = new Counter({ name: 'director_ipvs_destination_connections_total', help: 'Connections scheduled to the real server', labelNames: destLabels, registers: [registry] });
  const dPkts = new Counter({ name: 'director_ipvs_destination_packets_total', help: 'Packets to and from the real server', labelNames: destDirLabels, registers: [registry] });
  const dBytes = new Counter({ name: 'director_ipvs_destination_bytes_total', help: 'Bytes to and from the real server', labelNames: destDirLabels, registers: [registry] });
  const dActive = new Gauge({ name: 'director_ipvs_destination_active_connections', help: 'ActiveConn of the real server', labelNames: destLabels, registers: [registry] });
  const dInactive = new Gauge({ name: 'director_ipvs_destination_inactive_connections', help: 'InActConn of the real server', labelNames: destLabels, registers: [registry] });
  const dPersistent = new Gauge({ name: 'director_ipvs_destination_persistent_connections', help: 'Persistence templates pointing at the real server', labelNames: destLabels, registers: [registry] });
  const dWeight = new Gauge({ name: 'director_ipvs_destination_weight', help: 'Weight of the real server (0 = quiesced)', labelNames: destLabels, registers: [registry] });
  const truncated = new Gauge({ name: 'director_ipvs_metrics_truncated', help: '1 when some objects were left out to bound cardinality', registers: [registry] });
  const samples = new Gauge({ name: 'director_agent_samples', help: 'Table samples taken since start', registers: [registry] });
  const quietSamples = new Gauge({ name: 'director_agent_quiet_samples', help: 'Samples that found the table unchanged and every rate 0 (no counter reads, nothing to send)', registers: [registry] });
  const wsClients = new Gauge({ name: 'director_agent_websocket_clients', help: 'Connected WebSocket clients', registers: [registry] });
  const subscribers = new Gauge({ name: 'director_agent_subscribers', help: 'Subscriptions to stats ticks or change events (none: the hub samples only occasionally)', registers: [registry] });
  const stageSeconds = new Counter({ name: 'director_agent_sample_stage_seconds_total', help: 'Wall time spent per stage of table sampling', labelNames: ['stage'] as const, registers: [registry] });

  const perObject = [svcConns, svcPkts, svcBytes, dConns, dPkts, dBytes, dActive, dInactive, dPersistent, dWeight];
  // one refresh sets every per-object series from the same sample
  function refresh(): void {
    for (const m of perObject) m.reset();
    const entries = hub.latest() ?? [];
    services.set(entries.length);
    samples.set(hub.samples);
    quietSamples.set(hub.quietSamples);
    subscribers.set(hub.subscribers);
    stageSeconds.reset();
    for (const [stage, ms] of Object.entries(hub.stageTimes())) if (stage !== 'destDumps') stageSeconds.inc({ stage }, ms / 1000);
    let series = 0;
    let cut = false;
    for (const e of entries) {
      if (series >= max) { cut = true; break; }
      const service = serviceId(e.key);
      svcConns.inc({ service }, e.stats.conns);
      svcPkts.inc({ service, direction: 'in' }, e.stats.inPkts);
      svcPkts.inc({ service, direction: 'out' }, e.stats.outPkts);
      svcBytes.inc({ service, direction: 'in' }, e.stats.inBytes);
      svcBytes.inc({ service, direction: 'out' }, e.stats.outBytes);
      series++;
      for (const d of e.destinations) {
        if (series >= max) { cut = true; break; }
        const l = { service, destination: destinationId(d) };
        dConns.inc(l, d.stats.conns);
        dPkts.inc({ ...l, direction: 'in' }, d.stats.inPkts);
        dPkts.inc({ ...l, direction: 'out' }, d.stats.outPkts);
        dBytes.inc({ ...l, direction: 'in' }, d.stats.inBytes);
        dBytes.inc({ ...l, direction: 'out' }, d.stats.outBytes);
        dActive.set(l, d.activeConns);
        dInactive.set(l, d.inactiveConns);
        dPersistent.set(l, d.persistentConns);
        dWeight.set(l, d.weight);
        series++;
      }
    }
    truncated.set(cut ? 1 : 0);
  }
  return {
    registry, wsClients,
    async render() {
      // collects run concurrently in prom-client, so the sample must be fresh before any of them
      await hub.fresh(hub.tickMs * 2).catch(() => null);
      return registry.metrics();
    },
  };
}
