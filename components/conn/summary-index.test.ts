import { describe, expect, it } from 'vitest';
import { destinationId, serviceId } from '@/lib/ipvs/ids';
import type { ConnSummary } from '@/lib/conn/summary';
import { indexSummary } from './summary-index';

const counts = (byState: Record<string, number>) => ({
  connections: Object.values(byState).reduce((a, b) => a + b, 0), templates: 0, active: byState.ESTABLISHED ?? 0, inactive: 0, byState, templatesByState: {},
});

describe('indexSummary', () => {
  it('keys services and destinations like lib/ipvs/ids does', () => {
    const svc = { kind: 'addr', family: 'inet6', protocol: 'tcp', address: '2001:db8::1', port: 80 } as const;
    const s: ConnSummary = {
      ...counts({ ESTABLISHED: 3, SYN_RECV: 1 }), malformed: 0,
      services: [{ service: svc, label: 'TCP [2001:db8::1]:80', ...counts({ ESTABLISHED: 3, SYN_RECV: 1 }) }],
      destinations: [{ service: svc, serviceLabel: 'x', family: 'inet6', address: '2001:db8::a', port: 8080, label: 'y', ...counts({ SYN_RECV: 1 }) }],
      realServers: [],
    };
    const ix = indexSummary(s);
    const sid = serviceId(svc);
    expect(ix.byService.get(sid)).toEqual({ ESTABLISHED: 3, SYN_RECV: 1 });
    expect(ix.byDestination.get(`${sid} ${destinationId({ family: 'inet6', address: '2001:db8::a', port: 8080 })}`)).toEqual({ SYN_RECV: 1 });
    expect(ix.total).toBe(4);
  });
});
