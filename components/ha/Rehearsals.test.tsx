import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { RehearsalReport } from '@/lib/ha/rehearsal';
import { RehearsalsPanel, type RehearsalsProps } from './Rehearsals';
import { mergeRehearsals } from './useRehearsals';

const report = (over: Partial<RehearsalReport>): RehearsalReport => ({
  id: 1, at: Date.UTC(2026, 11, 5, 4, 0, 0), by: 'operator', director: 'lvs1', group: 'lan', result: 'ready', reason: null, preflight: [],
  newHolder: 'lvs2', failoverMs: 1477, failedRequests: 0, okRequests: 50,
  connectionsBefore: { active: 23, inactive: 94 }, connectionsAfter: { active: 23, inactive: 133 },
  handback: "hand lan back from lvs2's HA panel", steps: [], ...over,
});
const names = new Map([['lvs1', 'Director 1'], ['lvs2', 'Director 2']]);
const base: RehearsalsProps = {
  groups: [{ name: 'lan', holder: 'lvs1', peers: ['lvs2'] }], history: [], running: null, names,
  disabledReason: () => null, rehearse: async () => report({}), handBack: null,
};
const text = (p: Partial<RehearsalsProps>) => renderToStaticMarkup(<RehearsalsPanel {...base} {...p} />).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
const html = (p: Partial<RehearsalsProps>) => renderToStaticMarkup(<RehearsalsPanel {...base} {...p} />);

describe('RehearsalsPanel', () => {
  it('a report row: who, result, failover time, failed requests, connections before and after', () => {
    const t = text({ history: [report({}), report({ id: 2, result: 'not-ready', reason: 'lease: held by lvs2', failedRequests: null, failoverMs: null, newHolder: null, connectionsBefore: null, connectionsAfter: null })] });
    expect(t).toContain('operator on Director 1');
    expect(t).toMatch(/ready .*failed over to Director 2/);
    expect(t).toContain('1.48 s');
    expect(t).toContain('23 / 94');
    expect(t).toContain('23 / 133');
    expect(t).toContain('not-ready lease: held by lvs2');
    expect(html({ history: [report({})] })).toMatch(/data-testid="failed-requests"[^>]*>0</);
  });

  it('the button is disabled with a reason: nobody holds the lease, a viewer, a drill under way', () => {
    expect(html({ groups: [{ name: 'lan', holder: null, peers: ['lvs1', 'lvs2'] }] })).toContain('Nobody holds the lease');
    expect(html({ disabledReason: () => 'Signed in as v (viewer)' })).toContain('Signed in as v (viewer)');
    const h = html({ running: report({ steps: [{ at: 0, step: 'pre-flight' }, { at: 1, step: 'handover' }] }) });
    expect(h).toContain('A rehearsal is under way.');
    expect(h).toMatch(/aria-label="Rehearsal progress".*pre-flight.*handover/);
    expect(text({})).toContain('No rehearsal yet.');
  });

  it('the hand-back: under way, its time, or why it did not happen', () => {
    expect(html({ handBack: { running: 'lvs1' } })).toContain('Handing the lease back to Director 1.');
    expect(text({ handBack: { running: 'lvs1' } })).toContain('handing back to Director 1');
    expect(text({ handBack: { ok: true, ms: 1420, to: 'lvs1' } })).toContain('Handed back to Director 1 in 1.42 s');
    expect(text({ handBack: { ok: false, to: 'lvs1', error: 'lvs1 did not hold lan again within 30 s of the handover' } })).toContain('did not hold lan again');
  });

  it('merges every director\'s reports newest first', () => {
    const m = mergeRehearsals([
      { running: null, history: [report({ id: 1, at: 10 })] },
      { running: report({ id: 9, director: 'lvs2' }), history: [report({ id: 1, director: 'lvs2', at: 20 })] },
    ]);
    expect(m.history.map((r) => `${r.director}#${r.id}`)).toEqual(['lvs2#1', 'lvs1#1']);
    expect(m.running?.id).toBe(9);
  });
});
