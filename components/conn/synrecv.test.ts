import { describe, expect, it } from 'vitest';
import { synRecvFinding, SYN_RECV_MIN } from './synrecv';

describe('synRecvFinding', () => {
  it('stays quiet for a few SYN_RECV among many established', () => {
    expect(synRecvFinding({ ESTABLISHED: 500, SYN_RECV: 30 }, 'dr')).toBeNull();
    expect(synRecvFinding({ SYN_RECV: SYN_RECV_MIN - 1 }, 'dr')).toBeNull();
    expect(synRecvFinding({}, 'nat')).toBeNull();
  });
  it('flags a DR server with piling SYN_RECV and names VIP-on-loopback and ARP', () => {
    const f = synRecvFinding({ SYN_RECV: 40, ESTABLISHED: 2 }, 'dr')!;
    expect(f.severity).toBe('critical');
    expect(f.share).toBeCloseTo(40 / 42);
    expect(f.causes.join(' ')).toMatch(/loopback/);
    expect(f.causes.join(' ')).toMatch(/arp_ignore/);
  });
  it('gives NAT its own cause and no DR causes', () => {
    const f = synRecvFinding({ SYN_RECV: 12, ESTABLISHED: 30 }, 'nat')!;
    expect(f.severity).toBe('warn');
    expect(f.causes.join(' ')).toMatch(/default route/);
    expect(f.causes.join(' ')).not.toMatch(/loopback/);
  });
});
