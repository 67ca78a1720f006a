import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEDULERS } from '../../lib/ipvs/model';
import { ipvsadm } from '../ipvs/kernel-test-helpers';

// The lab kernel itself: the premise of every other kernel test.

describe('lab kernel', () => {
  afterEach(() => { ipvsadm('-C'); });

  it('has IPVS 1.2.1 with an empty table', () => {
    expect(existsSync('/proc/net/ip_vs')).toBe(true);
    expect(readFileSync('/proc/net/ip_vs', 'utf8')).toMatch(/^IP Virtual Server version 1\.2\.1 \(size=\d+\)/);
    expect(ipvsadm('-Sn')).toBe('');
  });

  it.each(SCHEDULERS)('accepts scheduler %s', (sched) => {
    ipvsadm('-A', '-t', '10.9.9.9:80', '-s', sched);
    expect(ipvsadm('-Sn')).toBe(`-A -t 10.9.9.9:80 -s ${sched}\n`);
  });

  it('runs as root on a read-only root with writable tmpfs', () => {
    expect(process.getuid?.()).toBe(0);
    expect(() => execFileSync('touch', ['/usr/director-lab-should-fail'], { stdio: 'ignore' })).toThrow();
    expect(() => execFileSync('touch', ['/tmp/ok'])).not.toThrow();
  });
});
