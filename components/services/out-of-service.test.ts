import { describe, expect, it } from 'vitest';
import type { ServiceEntry } from '@/lib/ipvs/model';
import { outOfService, servicesWithoutServer } from './out-of-service';

describe('why a real server is out of service', () => {
  it('tells an operator drain, maintenance and a failing check apart', () => {
    expect(outOfService(0, undefined)?.label).toBe('drained');
    expect(outOfService(0, { state: 'up', maintenance: false, message: null })?.label).toBe('drained');
    expect(outOfService(0, { state: 'maintenance', maintenance: true, message: null })?.label).toBe('maintenance');
    const down = outOfService(0, { state: 'down', maintenance: false, message: 'HTTP 503, expected 200' });
    expect(down).toMatchObject({ label: 'down (health)', tone: 'danger' });
    expect(down!.title).toContain('HTTP 503, expected 200');
    expect(outOfService(3, { state: 'down', maintenance: false, kept: true, message: 'connection refused' })?.label).toBe('failing, kept in');
    expect(outOfService(3, { state: 'up', maintenance: false, message: 'HTTP 200' })).toBeNull();
  });

  it('finds services with no real server taking connections', () => {
    const svc = (weights: number[]) => ({ destinations: weights.map((weight) => ({ weight })) }) as unknown as ServiceEntry;
    const a = svc([0, 0]), b = svc([]), c = svc([0, 1]);
    expect(servicesWithoutServer([a, b, c])).toEqual([a, b]);
  });
});
