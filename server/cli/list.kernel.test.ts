import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVERY_OPTION_KIND as RULES, ipvsadm } from '../ipvs/kernel-test-helpers';
import { director } from './testing';

// `director list` must print what `ipvsadm -Ln` prints for the same table.

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

// The default layout and save --no-thresholds print IPv4 real servers from /proc/net/ip_vs's rows
// (lib/proc/ip-vs-listing.ts): many services, addresses 2^31 apart (libipvs's sort quirk), weights wider
// than their column, next to the IPv6 and fwmark services that print from objects.
describe('director list, -Ln and save --no-thresholds print what ipvsadm prints', () => {
  beforeAll(() => {
    ipvsadm('-C');
    const lines = [...RULES];
    for (let i = 0; i < 300; i++) {
      const vip = `${i % 2 ? 200 : 10}.1.${i >> 8}.${i & 255}:${80 + (i % 3)}`;
      lines.push(`-A -t ${vip} -s ${['rr', 'wlc', 'sh'][i % 3]}`);
      for (const [k, rs] of [`172.16.${i & 255}.9`, '10.0.0.1', '250.0.0.1', `172.16.${i & 255}.10`].entries()) {
        // a tunnel in every fifth service: save reads those services' real servers over netlink
        lines.push(`-a -t ${vip} -r ${rs}:${8080 + k} -${k === 2 && i % 5 === 0 ? 'i' : 'mgmg'[k]} -w ${[0, 2147483647, 7, 65536][k]}`);
      }
    }
    const r = spawnSync('ipvsadm', ['-R'], { input: lines.join('\n') + '\n', encoding: 'utf8' });
    expect(r.stderr).toBe('');
  });
  afterAll(() => { ipvsadm('-C'); });

  it.each([
    [['list'], ['-Ln']],
    [['list', '--nosort'], ['-Ln', '--nosort']],
    [['-Ln'], ['-Ln']],
    [['save', '--no-thresholds'], ['-Sn']],
  ])('director %j equals ipvsadm %j', async (ours, theirs) => {
    const r = await director(...ours);
    expect(r.err).toBe('');
    expect(r.out).toBe(ipvsadm(...theirs));
  });

  it.each([
    [['list'], ['-Ln']],
    [['save', '--no-thresholds'], ['-Sn']],
  ])('the director process %j writes what ipvsadm %j writes to a pipe (the listing as bytes)', (ours, theirs) => {
    const bin = path.resolve(import.meta.dirname, '../../bin/director.mjs');
    const r = spawnSync(process.execPath, [bin, ...ours], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(ipvsadm(...theirs));
  });
});
