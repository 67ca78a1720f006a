import { spawnSync } from 'node:child_process';
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
