/** snapshot.* through the router on the fake kernel, with the real snapshot parser and planner. */
import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { callerFor, makeDeps, OPERATOR, VIEWER } from '../testing';

const TEXT = `-A -t 192.0.2.10:80 -s rr
-a -t 192.0.2.10:80 -r 10.0.0.1:80 -m -w 2
-a -t 192.0.2.10:80 -r 10.0.0.2:80 -g -w 1
`;

describe('snapshot', () => {
  it('plans without writing, restores, exports the same rules, and undo puts the table back', async () => {
    const deps = await makeDeps();
    const op = callerFor(deps, OPERATOR);
    const plan = await callerFor(deps, VIEWER).snapshot.plan({ format: 'ipvsadm', text: TEXT });
    expect(plan.steps).toHaveLength(3);
    expect(await deps.fake.listServices()).toEqual([]);

    const r = await op.snapshot.restore({ format: 'ipvsadm', text: TEXT });
    expect(r.applied).toBe(3);
    const ds = await deps.fake.listDestinations({ kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.0.2.10', port: 80 });
    expect(ds.map((d) => [d.address, d.forward, d.weight]).sort()).toEqual([['10.0.0.1', 'nat', 2], ['10.0.0.2', 'dr', 1]]);

    const exp = await op.snapshot.export({ format: 'ipvsadm' });
    expect(exp.text).toContain('-A -t 192.0.2.10:80 -s rr');
    expect(exp.text).toContain('-a -t 192.0.2.10:80 -r 10.0.0.1:80 -m -w 2');
    const json = JSON.parse((await op.snapshot.export({ format: 'json' })).text) as { services: unknown[] };
    expect(json.services).toHaveLength(1);

    expect((await op.journal.list())[0]!.op).toBe('snapshot.restore');
    await op.journal.undo();
    expect(await deps.fake.listServices()).toEqual([]);
  });

  it('reports parse errors per line on the text field and changes nothing', async () => {
    const deps = await makeDeps();
    const e = await callerFor(deps, OPERATOR).snapshot.restore({ format: 'ipvsadm', text: '-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 10.0.0.1:80 -w notanumber\n' })
      .then(() => null, (x: unknown) => x as TRPCError);
    expect(e?.code).toBe('BAD_REQUEST');
    const issues = (e?.cause as unknown as { issues: { path: string[]; message: string }[] }).issues;
    expect(issues[0]!.path).toEqual(['text']);
    expect(issues[0]!.message).toMatch(/^line 2/);
    expect(await deps.fake.listServices()).toEqual([]);
  });
});
