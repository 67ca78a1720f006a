import { describe, expect, it } from 'vitest';
import { cidrSchema } from '@/lib/schemas/api';
import { clientFilterError } from './client-filter';

describe('clientFilterError', () => {
  it('takes addresses and CIDRs of both families, and no filter', () => {
    for (const s of ['', '  ', '10.1.2.3', ' 10.0.0.0/8 ', '2001:db8::1', '2001:db8::/32', '0.0.0.0/0']) expect(clientFilterError(s), s).toBeNull();
  });
  it('says why it refuses a text', () => {
    expect(clientFilterError('10.0.0.0/33')).toMatch(/address or CIDR/);
    expect(clientFilterError('example.org')).toMatch(/address or CIDR/);
    expect(clientFilterError('10.0.0.0/')).toMatch(/address or CIDR/);
    expect(clientFilterError(`10.0.0.0/${'0'.repeat(70)}`)).toBe('at most 64 characters');
  });
  it('agrees with the agent\'s schema', () => {
    for (const s of ['10.1.2.3', '10.0.0.0/8', '10.0.0.0/33', '::/0', '::/129', 'fe80::1%eth0', '1.2.3', '1.2.3.4/08', 'x'.repeat(65), ' 10.0.0.1 ']) {
      expect(clientFilterError(s) === null, s).toBe(cidrSchema.safeParse(s).success);
    }
  });
});
