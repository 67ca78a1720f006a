import { describe, expect, it } from 'vitest';
import { DEFAULT_TUNNEL, type DestinationSpec, type ServiceKey } from '@/lib/ipvs/model';
import { healthServiceSchema } from '@/lib/schemas/health';
import { toConfig, valuesFrom } from './CheckConfigForm';

const svc: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 };
const d = (a: string, weight: number): DestinationSpec => ({ family: 'inet', address: a, port: 80, forward: 'dr', weight, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL } });

describe('check form model', () => {
  it('defaults give a valid HTTP GET / expecting 200 on every real server', () => {
    const cfg = healthServiceSchema.parse(toConfig(valuesFrom(null), svc, [d('10.0.1.1', 2), d('10.0.1.2', 1)], null));
    expect(cfg.realServers.map((r) => [r.destination.address, r.checks[0]])).toEqual([
      ['10.0.1.1', { type: 'http', tls: false, urls: [{ path: '/', statusCodes: ['200'] }], timing: {} }],
      ['10.0.1.2', { type: 'http', tls: false, urls: [{ path: '/', statusCodes: ['200'] }], timing: {} }],
    ]);
    expect(cfg.timing).toMatchObject({ delayLoop: 6, connectTimeout: 3, retry: 2, delayBeforeRetry: 2 });
  });
  it('keeps the configured weight of a server quiesced by its checks, and round-trips values', () => {
    const prev = healthServiceSchema.parse(toConfig(valuesFrom(null), svc, [d('10.0.1.1', 5)], null));
    const next = healthServiceSchema.parse(toConfig({ ...valuesFrom(prev), statusCodes: '200-299 503' }, svc, [d('10.0.1.1', 0)], prev));
    expect(next.realServers[0]!.destination.weight).toBe(5);
    expect(valuesFrom(next).statusCodes).toBe('200-299 503');
  });
  it('bad input is refused by the shared schema, naming the field', () => {
    const r = healthServiceSchema.safeParse(toConfig({ ...valuesFrom(null), statusCodes: '2xx', delayLoop: '0' }, svc, [d('10.0.1.1', 1)], null));
    expect(r.success).toBe(false);
    const paths = r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('timing.delayLoop');
    expect(paths).toContain('realServers.0.checks.0.urls.0.statusCodes.0');
  });
  it('a script check names a script in the checks folder; a path or command line is refused at the script field', () => {
    const ok = healthServiceSchema.parse(toConfig({ ...valuesFrom(null), type: 'misc', script: ' check-web ' }, svc, [d('10.0.1.1', 1)], null));
    expect(ok.realServers[0]!.checks).toEqual([{ type: 'misc', script: 'check-web', dynamic: false, timing: {} }]);
    expect(valuesFrom(ok)).toMatchObject({ type: 'misc', script: 'check-web' });
    for (const script of ['/usr/local/bin/check', 'check web', 'x;id', '']) {
      const r = healthServiceSchema.safeParse(toConfig({ ...valuesFrom(null), type: 'misc', script }, svc, [d('10.0.1.1', 1)], null));
      expect(r.success, script).toBe(false);
      expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual(['realServers.0.checks.0.script']);
    }
  });
});

describe('check form protections', () => {
  it('sends the minimum in service, the hysteresis and a sorry server, and reads them back', () => {
    const cfg = healthServiceSchema.parse(toConfig({ ...valuesFrom(null), minInService: '1', hysteresis: '1', sorryServer: '10.0.9.9:8080' }, svc, [d('10.0.1.1', 2)], null));
    expect(cfg).toMatchObject({ minInService: 1, hysteresis: 1, sorryServer: { address: '10.0.9.9', port: 8080, forward: 'dr', weight: 1 } });
    expect(valuesFrom(cfg)).toMatchObject({ minInService: '1', hysteresis: '1', sorryServer: '10.0.9.9:8080' });
  });
  it('a sorry server without a port gets the service port; empty means none', () => {
    expect(healthServiceSchema.parse(toConfig({ ...valuesFrom(null), sorryServer: '10.0.9.9' }, svc, [d('10.0.1.1', 2)], null)).sorryServer?.port).toBe(80);
    expect(healthServiceSchema.parse(toConfig(valuesFrom(null), svc, [d('10.0.1.1', 2)], null)).sorryServer).toBeNull();
  });
  it('a bad minimum or sorry server is refused at its field', () => {
    const r = healthServiceSchema.safeParse(toConfig({ ...valuesFrom(null), minInService: '-1', sorryServer: '10.0.9.999' }, svc, [d('10.0.1.1', 2)], null));
    expect(r.success).toBe(false);
    const paths = r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('minInService');
    expect(paths.some((p) => p.startsWith('sorryServer'))).toBe(true);
  });
});
