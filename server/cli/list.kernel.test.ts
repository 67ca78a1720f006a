import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipvsadm } from '../ipvs/kernel-test-helpers';
import { director } from './testing';

// `director list` must print what `ipvsadm -Ln` prints for the same table.


// Every option kind (reference §8.4's verified table) plus thresholds, and an
// address pair that shows ipvsadm's signed-subtraction order (200.x before 10.x).
const RULES = [
  '-A -t 10.0.0.1:80 -s rr',
  '-a -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 5 -x 100 -y 50',
  '-a -t 10.0.0.1:80 -r 192.168.1.11:80 -m -w 1',
  '-a -t 10.0.0.1:80 -r 10.1.1.1:80 -m -w 1',
  '-a -t 10.0.0.1:80 -r 200.1.1.1:80 -m -w 1',
  '-A -t 200.0.0.1:80 -s wrr',
  '-A -t 10.0.0.2:443 -s sh -p 600 -M 255.255.255.0 -b sh-fallback,sh-port',
  '-a -t 10.0.0.2:443 -r 10.0.0.50:443 -g -w 1',
  '-A -t 10.0.0.5:0 -s wlc -p 360',
  '-A -u 10.0.0.1:53 -s wlc -o',
  '-a -u 10.0.0.1:53 -r 192.168.1.20:53 -g -w 0',
  '-A -u 10.0.0.4:5060 -s rr -p 30 --pe sip',
  '-A --sctp-service 10.0.0.3:3868 -s nq',
  '-a --sctp-service 10.0.0.3:3868 -r 192.168.1.50:3868 -m -w 1',
  '-A -t [2001:db8::1]:80 -s mh -b mh-port',
  '-a -t [2001:db8::1]:80 -r 192.168.1.40:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
  '-a -t [2001:db8::1]:80 -r 192.168.1.42:80 -i -w 1 --tun-type gre --tun-csum',
  '-a -t [2001:db8::1]:80 -r [2001:db8::a]:8080 -m -w 2',
  '-A -f 7 -s wrr -p 360',
  '-a -f 7 -r 192.168.1.30:0 -m -w 3',
  '-a -f 7 -r 192.168.1.31:0 -i -w 1 --tun-type ipip',
  '-A -f 9 -6 -s lc -p 100 -M 64',
  '-a -f 9 -6 -r [2001:db8::b]:0 -g -w 1',
  '-A -t 10.0.0.9:80 -s fo -b flag-1,flag-3',
];

describe('director list against ipvsadm -Ln', () => {
  beforeAll(() => {
    ipvsadm('-C');
    const r = spawnSync('ipvsadm', ['-R'], { input: RULES.join('\n') + '\n', encoding: 'utf8' });
    expect(r.stderr).toBe('');
  });
  afterAll(() => { ipvsadm('-C'); });

  it.each([
    [[], ['-Ln']],
    [['--thresholds'], ['-Ln', '--thresholds']],
    [['--persistent-conn'], ['-Ln', '--persistent-conn']],
    [['--stats', '--exact'], ['-Ln', '--stats', '--exact']],
    [['--stats'], ['-Ln', '--stats']],
    [['--rate'], ['-Ln', '--rate']],
    [['--timeout'], ['-Ln', '--timeout']],
  ])('director list %j equals ipvsadm %j', async (ours, theirs) => {
    const r = await director('list', ...ours);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(ipvsadm(...theirs));
  });

  it('--json carries the full model', async () => {
    const r = await director('list', '--json');
    const parsed = JSON.parse(r.out) as { services: { key: unknown; destinations: { upperThreshold: number }[] }[] };
    expect(parsed.services).toHaveLength(RULES.filter((l) => l.startsWith('-A')).length);
    const thresholds = parsed.services.flatMap((s) => s.destinations.map((d) => d.upperThreshold));
    expect(thresholds).toContain(100);
  });

  it('rejects an unknown option on stderr with a non-zero exit', async () => {
    const r = await director('list', '--bogus');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/unknown option '--bogus'/);
  });
});
