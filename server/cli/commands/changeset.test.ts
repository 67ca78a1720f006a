/** director changeset against a running agent (the stateful fake kernel behind it): list, show, stage, apply. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceKey } from '@/lib/ipvs/model';
import type { AgentTarget } from '../local-agent';
import { fakeAgent } from '../agent-fixture-testing';
import changeset from './changeset';

const KEY: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 };
let agent: Awaited<ReturnType<typeof fakeAgent>>;
let deps: typeof agent.deps;
let target: AgentTarget;

beforeAll(async () => {
  agent = await fakeAgent();
  ({ deps, target } = agent);
  await deps.fake.addService({ key: KEY, scheduler: 'wlc', flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false }, timeout: 0, netmask: '255.255.255.255', pe: null });
  await deps.fake.addDestination(KEY, { family: 'inet', address: '10.0.1.1', port: 80, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' } });
});
afterAll(() => agent.close());

async function run(...args: string[]) {
  let out = '', err = '';
  const code = await changeset(args, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, readStdin: async () => '' }, target);
  return { code, out, err };
}

describe('director changeset', () => {
  it('stages, lists, shows the diff and verdict, refuses a flagged apply without --acknowledge, applies with it', async () => {
    expect(await run('list')).toMatchObject({ code: 0, out: 'The draft is empty.\n' });
    const edit = { op: 'destination.update', service: KEY, destination: { family: 'inet', address: '10.0.1.1', port: 80 }, patch: { weight: 0 } };
    expect(await run('stage', JSON.stringify(edit))).toMatchObject({ code: 0, out: 'staged #1: edit real server 10.0.1.1:80 of TCP 10.0.0.1:80: weight 0\n' });
    expect((await run('list')).out).toMatch(/^1\. \[#1\] edit real server 10\.0\.1\.1:80 of TCP 10\.0\.0\.1:80: weight 0 {2}\(operator, /);
    const show = await run('show');
    expect(show.out).toContain('~ -a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 0');
    expect(show.out).toContain('Verdict: FLAGGED (apply needs --acknowledge)');
    expect(show.out).toContain('CRITICAL last-healthy: TCP 10.0.0.1:80 would be left with no healthy real server taking connections');

    const refused = await run('apply');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^director changeset apply: the verdict flags this change set/);
    expect((await deps.fake.dump())[0]!.destinations[0]!.weight).toBe(1);

    const ok = await run('apply', '--acknowledge');
    expect(ok).toMatchObject({ code: 0, out: expect.stringMatching(/^applied 1 operation\(s\) as journal entry #\d+\n$/) });
    expect((await deps.fake.dump())[0]!.destinations[0]!.weight).toBe(0);
  });

  it('names a bad edit and the agent\'s reason', async () => {
    expect(await run('stage', '{not json')).toMatchObject({ code: 2, err: expect.stringContaining('the edit is not JSON') });
    const r = await run('stage', JSON.stringify({ op: 'service.remove', key: { ...KEY, port: 81 } }));
    expect(r).toMatchObject({ code: 1, err: 'director changeset stage: edits.0.key: virtual service TCP 10.0.0.1:81 does not exist\n' });
    expect(await run('frobnicate')).toMatchObject({ code: 2 });
  });
});
