import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ServiceRules } from '../ipvs/model';
import { formatSnapshot } from './format';
import { makeSnapshot, readSnapshotJson, stringifySnapshot } from './json';
import { parseSnapshot } from './parse';
import { invert, planRestore, renderPlan, type PlanOp } from './plan';

const REFERENCE = readFileSync(path.join(import.meta.dirname, 'fixtures/reference-8.4.txt'), 'utf8');
const parse = async (t: string) => {
  const r = await parseSnapshot(t);
  expect(r.errors).toEqual([]);
  return r;
};

/** Applies ops to a plain model (the plan's own semantics, independent of any backend). */
function applyToModel(table: ServiceRules[], ops: PlanOp[]): ServiceRules[] {
  const t = structuredClone(table);
  const find = (k: unknown) => t.findIndex((s) => JSON.stringify(s.key) === JSON.stringify(k));
  for (const op of ops) {
    const i = find(op.service.key);
    switch (op.kind) {
      case 'createService': t.push({ ...op.service, destinations: [] }); break;
      case 'updateService': t[i] = { ...op.service, destinations: t[i]!.destinations }; break;
      case 'removeService': t.splice(i, 1); break;
      case 'createDestination': t[i]!.destinations.push(op.destination); break;
      case 'updateDestination':
      case 'removeDestination': {
        const j = t[i]!.destinations.findIndex((d) => d.address === op.destination.address && d.port === op.destination.port);
        if (op.kind === 'removeDestination') t[i]!.destinations.splice(j, 1); else t[i]!.destinations[j] = op.destination;
      }
    }
  }
  return t;
}

describe('plan', () => {
  it('restoring a matching table is a no-op, whatever the counters say', async () => {
    const { services } = await parse(REFERENCE);
    const live = services.map((s) => ({ ...s, stats: { conns: 5 } }));
    expect(planRestore(live as never, services)).toEqual([]);
    expect(planRestore(services, services, { mode: 'replace' })).toEqual([]);
  });

  it('ignores timeout and netmask of non-persistent services and tunnel fields of non-tunnel servers', async () => {
    const { services } = await parse('-A -t 1.1.1.1:80 -s rr\n-a -t 1.1.1.1:80 -r 2.2.2.2 -m');
    const live = structuredClone(services);
    live[0]!.netmask = '255.255.255.0';
    live[0]!.timeout = 50;
    live[0]!.destinations[0]!.tunnel = { type: 'gue', port: 9, checksum: 'csum' };
    expect(planRestore(live, services)).toEqual([]);
  });

  it('merge leaves other services alone; replace removes them, destinations first', async () => {
    const { services: live } = await parse(REFERENCE);
    const { services: want, lines } = await parse('-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 6\n-a -t 10.0.0.1:80 -r 192.168.1.99:80 -m\n-A -t 9.9.9.9:80');
    const merge = planRestore(live, want, { lines });
    expect(merge.map((o) => [o.kind, o.line])).toEqual([
      ['updateService', 1], ['updateDestination', 2], ['createService', 4], ['createDestination', 3], ['removeDestination', 1],
    ]);
    expect(formatSnapshot(applyToModel(live, merge))).toBe(formatSnapshot([
      ...live.filter((s) => !(s.key.kind === 'addr' && s.key.address === '10.0.0.1' && s.key.port === 80)), ...want,
    ]));
    const replace = planRestore(live, want, { mode: 'replace', lines });
    expect(formatSnapshot(applyToModel(live, replace))).toBe(formatSnapshot(want));
    const kinds = replace.map((o) => o.kind);
    expect(kinds.lastIndexOf('removeDestination')).toBeLessThan(kinds.indexOf('removeService'));
    expect(kinds.lastIndexOf('createService')).toBeLessThan(kinds.indexOf('createDestination'));
  });

  it('invert undoes every op: applying the inverses in reverse order restores the table', async () => {
    const { services: live } = await parse(REFERENCE);
    const { services: want } = await parse('-A -t 10.0.0.1:80 -s wrr -p\n-a -t 10.0.0.1:80 -r 192.168.1.10:8080 -i -w 6\n-A -f 12 -s rr');
    const ops = planRestore(live, want, { mode: 'replace' });
    const after = applyToModel(live, ops);
    const undo = [...ops].reverse().map((o) => invert(o));
    expect(formatSnapshot(applyToModel(after, undo))).toBe(formatSnapshot(live));
  });

  it('renders a readable diff in ipvsadm syntax with source lines', async () => {
    const { services: live } = await parse('-A -t 1.1.1.1:80 -s rr\n-a -t 1.1.1.1:80 -r 2.2.2.2 -m -w 1\n-A -t 3.3.3.3:80');
    const { services: want, lines } = await parse('-A -t 1.1.1.1:80 -s rr\n-a -t 1.1.1.1:80 -r 2.2.2.2 -m -w 9\n-A -u 4.4.4.4:53');
    expect(renderPlan(planRestore(live, want, { mode: 'replace', lines }), 'f.txt')).toBe([
      '~ -a -t 1.1.1.1:80 -r 2.2.2.2:80 -m -w 9   # f.txt:2',
      '    was -a -t 1.1.1.1:80 -r 2.2.2.2:80 -m -w 1',
      '+ -A -u 4.4.4.4:53 -s wlc   # f.txt:3',
      '- -A -t 3.3.3.3:80 -s wlc',
      '1 to add, 1 to change, 1 to remove',
      '',
    ].join('\n'));
    expect(renderPlan([])).toMatch(/no changes/);
  });
});

describe('JSON snapshot', () => {
  it('round-trips and carries metadata', async () => {
    const { services } = await parse(REFERENCE);
    const snap = makeSnapshot(services, { host: 'lvs1', ipvsVersion: '1.2.1', now: new Date('2026-01-02T03:04:05Z') });
    const back = readSnapshotJson(stringifySnapshot(snap));
    expect(back).toEqual({ ok: true, snapshot: snap });
    expect(snap).toMatchObject({ version: 1, createdAt: '2026-01-02T03:04:05.000Z', host: 'lvs1', ipvs: { version: '1.2.1' } });
  });
  it('says clearly when the version is wrong or missing', () => {
    const r = readSnapshotJson(JSON.stringify({ version: 2, createdAt: '2026-01-01T00:00:00Z', host: 'h', ipvs: { version: '1' }, services: [] }));
    expect(r).toEqual({ ok: false, errors: [{ path: 'version', message: 'unsupported snapshot version 2: this Director reads version 1' }] });
    expect(readSnapshotJson('{}')).toMatchObject({ ok: false, errors: [{ path: 'version', message: expect.stringMatching(/missing snapshot version/) }] });
    expect(readSnapshotJson('nope')).toMatchObject({ ok: false, errors: [{ message: expect.stringMatching(/not JSON/) }] });
  });
  it('validates services with field paths', () => {
    const r = readSnapshotJson(JSON.stringify({ version: 1, createdAt: '2026-01-01T00:00:00Z', host: 'h', ipvs: { version: '1' },
      services: [{ key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '1.1.1.1', port: 80 }, scheduler: 'nope',
        destinations: [{ family: 'inet', address: '2.2.2.2', port: 70000 }] }] }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toContainEqual({ path: 'services.0.scheduler', message: expect.stringMatching(/unknown scheduler 'nope'/) });
      expect(r.errors).toContainEqual({ path: 'services.0.destinations.0.port', message: 'port must be 0..65535' });
    }
  });
});
