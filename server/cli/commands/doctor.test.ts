import { describe, expect, it } from 'vitest';
import { diagnose } from '@/lib/doctor/rules';
import { healthyEvidence } from '@/lib/doctor/testing';
import doctor, { formatFindings } from './doctor';

describe('director doctor', () => {
  it('refuses an unknown option before touching the kernel', async () => {
    let err = '';
    expect(await doctor(['--arp=yes'], { stdout: () => {}, stderr: (s) => { err += s; }, readStdin: async () => '' })).toBe(2);
    expect(err).toContain("unknown option '--arp=yes'");
  });
  it('prints each finding with what it read, why and the fix', () => {
    const e = healthyEvidence();
    e.sysctl['net.ipv4.ip_forward'] = 0;
    const text = formatFindings(diagnose(e));
    expect(text).toMatch(/^CRITICAL nat-ip-forward: IP forwarding is off while NAT services are in use\n  read: net\.ipv4\.ip_forward = 0\n/);
    expect(text).toContain('  fix:  sysctl -w net.ipv4.ip_forward=1\n');
    expect(text).toContain('1 finding: 1 critical, 0 warning, 0 info');
    expect(formatFindings([])).toContain('No findings');
  });
});
