import { describe, expect, it } from 'vitest';
import { healthServiceSchema } from '@/lib/schemas/health';
import { checkSummary, healthCounts } from './check-summary';

const service = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: 80 } as const;
const dest = (address: string) => ({ family: 'inet', address, port: 80, forward: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0 });

describe('checkSummary', () => {
  it('says nothing is checked when there is no config or no check', () => {
    expect(checkSummary(null)).toBeNull();
    expect(checkSummary(healthServiceSchema.parse({ service, realServers: [{ destination: dest('10.0.0.1') }] }))).toBeNull();
  });

  it('spells out an HTTP check with its timing and failure action', () => {
    const cfg = healthServiceSchema.parse({
      service, timing: { delayLoop: 6, retry: 2 }, onFailure: 'remove',
      realServers: [dest('10.0.0.1'), dest('10.0.0.2')].map((d) => ({ destination: d, checks: [{ type: 'http', urls: [{ path: '/health', statusCodes: ['200', '204'] }] }] })),
    });
    expect(checkSummary(cfg)).toBe('HTTP GET /health → 200 204, every 6 s, 2 retries; on failure: remove');
  });

  it('names a TCP check port and servers left unchecked', () => {
    const cfg = healthServiceSchema.parse({
      service, timing: { delayLoop: 1, retry: 1 },
      realServers: [{ destination: dest('10.0.0.1'), checks: [{ type: 'tcp', connectPort: 8080 }] }, { destination: dest('10.0.0.2') }],
    });
    expect(checkSummary(cfg)).toBe('TCP connect on port 8080, every 1 s, 1 retry; on failure: quiesce (1 of 2 servers checked)');
  });
});

describe('healthCounts', () => {
  it('counts maintenance before the check state', () => {
    expect(healthCounts([
      { state: 'up', maintenance: false }, { state: 'up', maintenance: true }, { state: 'down', maintenance: false }, { state: 'unknown', maintenance: false },
    ])).toEqual({ up: 1, down: 1, maintenance: 1, checking: 1 });
  });
});
