/** director drain against a running agent (the stateful fake kernel behind it): a rack at once, or nothing. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceKey } from '@/lib/ipvs/model';
import type { AgentTarget } from '../local-agent';
import { fakeAgent } from '../agent-fixture-testing';
import drain from './drain';

const TCP: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 };
const MARK: ServiceKey = { kind: 'fwmark', family: 'inet', fwmark: 7 };
const FLAGS = { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false };
const dest = (last: number, port = 80) => ({ family: 'inet' as const, address: `10.0.1.${last}`, port, forward: 'dr' as const, weight: 3, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip' as const, port: 0, checksum: 'nocsum' as const } });
let agent: Awaited<ReturnType<typeof fakeAgent>>;
let deps: typeof agent.deps;
let target: AgentTarget;

beforeAll(async () => {
  agent = await fakeAgent();
  ({ deps, target } = agent);
});
beforeEach(async () => {
  await deps.fake.flush();
  await deps.fake.addService({ key: TCP, scheduler: 'wlc', flags: FLAGS, timeout: 0, netmask: '255.255.255.255', pe: null });
  await deps.fake.addService({ key: MARK, scheduler: 'wlc', flags: FLAGS, timeout: 0, netmask: '255.255.255.255', pe: null });
  for (const n of [1, 2, 3]) await deps.fake.addDestination(TCP, dest(n));
  await deps.fake.addDestination(MARK, dest(4, 0));
});
afterAll(() => agent.close());

async function run(...args: string[]) {
  let out = '', err = '';
  const code = await drain(args, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, readStdin: async () => '' }, target);
  return { code, out, err };
}
const weights = async () => (await deps.fake.dump()).flatMap((s) => s.destinations.map((d) => `${d.address}:${d.weight}`)).sort();

describe('director drain', () => {
  it('drains real servers of two services at once, each journaled, and can leave their removal to the agent', async () => {
    const r = await run('-t', '10.0.0.1:80', '-r', '10.0.1.1:80', '-r', '10.0.1.3', '-f', '7', '-r', '10.0.1.4');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^drained 10\.0\.1\.1:80 of TCP 10\.0\.0\.1:80: weight 0 \(journal #\d+\)$/),
      expect.stringMatching(/^drained 10\.0\.1\.3:80 of TCP 10\.0\.0\.1:80: weight 0 \(journal #\d+\)$/),
      expect.stringMatching(/^drained 10\.0\.1\.4:0 of FWM 7: weight 0 \(journal #\d+\)$/),
    ]);
    expect(await weights()).toEqual(['10.0.1.1:0', '10.0.1.2:3', '10.0.1.3:0', '10.0.1.4:0']);

    const rm = await run('--remove-when-drained', '-t', '10.0.0.1:80', '-r', '10.0.1.2:80');
    expect(rm.code).toBe(0);
    expect(rm.out).toContain('the agent removes each once no connection and no persistence template is left');
    // empty on the fake kernel: the agent removes it at its next look (bounded wait)
    for (let i = 0; i < 100 && (await weights()).some((w) => w.startsWith('10.0.1.2:')); i++) await new Promise((res) => setTimeout(res, 50));
    expect(await weights()).toEqual(['10.0.1.1:0', '10.0.1.3:0', '10.0.1.4:0']);
  });

  it('one server that is not there drains none, and the agent says which', async () => {
    const r = await run('-t', '10.0.0.1:80', '-r', '10.0.1.1:80', '-r', '10.0.1.9:80');
    expect(r).toMatchObject({ code: 1, out: '' });
    expect(r.err).toBe('director drain: items.1: 10.0.1.9:80 is not a real server of TCP 10.0.0.1:80; nothing was drained\n');
    expect(await weights()).toEqual(['10.0.1.1:3', '10.0.1.2:3', '10.0.1.3:3', '10.0.1.4:3']);
  });

  it('refuses a bad command line naming the word at fault, before asking the agent', async () => {
    const cases: [string[], string][] = [
      [['-r', '10.0.1.1:80'], '-r 10.0.1.1:80: name its service first'],
      [['-t', '10.0.0.1:80'], 'name at least one real server (-r) of the service'],
      [['-t', '10.0.0.1:80', '-r'], '-r: needs a value'],
      [['-t', '10.0.0.1:80', '-r', '10.0.1.300:80'], '10.0.1.300'],
      [['-t', '10.0.0.1:80', '-r', '10.0.1.1:80', '-w', '0'], "unknown option '-w'"],
      [['-t', '10.0.0.1:80', '-r', '10.0.1.1:80', '-r', '10.0.1.1'], 'items.1: names the same real server as items.0'],
    ];
    for (const [args, why] of cases) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.err, args.join(' ')).toContain(why);
    }
    expect(await weights()).toEqual(['10.0.1.1:3', '10.0.1.2:3', '10.0.1.3:3', '10.0.1.4:3']);
    expect((await run()).code).toBe(2);
  });
});
