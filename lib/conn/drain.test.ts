import { describe, expect, it } from 'vitest';
import type { ConnEntry } from './parse';
import { drainRemains } from './drain';

const entry = (over: Partial<ConnEntry>): ConnEntry => ({
  protocol: 'tcp', family: 'inet', clientAddr: '10.9.0.1', clientPort: 40000, vaddr: '192.168.150.100', fwmark: null, vport: 80,
  destFamily: 'inet', destAddr: '192.168.150.12', destPort: 80, state: 'FIN_WAIT', expires: 30, template: false, ...over,
});

describe('what a drained real server still has', () => {
  it('counts connections and templates, each with the longest time left; empty when the later one expires', () => {
    const r = drainRemains([
      entry({ expires: 12 }),
      entry({ protocol: 'udp', state: 'UDP', expires: 250 }),
      entry({ template: true, clientPort: 0, state: 'NONE', expires: 290 }),
      entry({ template: true, clientPort: 0, destPort: 0, vport: 0, state: 'NONE', expires: 100 }), // all-ports template
      entry({ destPort: 8080, expires: 999 }), // another port of the same address: another real server
    ], 80);
    expect(r).toEqual({ connections: 2, udp: 1, templates: 2, connectionsLeft: 250, templatesLeft: 290, emptyIn: 290, partial: false });
  });

  it('a template that runs out while its connections live is kept in steps of 60 s until they are gone', () => {
    const r = drainRemains([entry({ state: 'TIME_WAIT', expires: 107 }), entry({ template: true, clientPort: 0, state: 'NONE', expires: 27 })], 80);
    expect(r).toMatchObject({ connectionsLeft: 107, templatesLeft: 27, emptyIn: 147 });
  });

  it('counts down from when the table was read', () => {
    expect(drainRemains([entry({ expires: 30 }), entry({ template: true, expires: 40 })], 80, 2, 4)).toMatchObject({ connectionsLeft: 26, templatesLeft: 36, emptyIn: 36 });
  });

  it('says nothing is left when nothing is', () => {
    expect(drainRemains([], 80)).toMatchObject({ connections: 0, templates: 0, emptyIn: null });
  });

  it('marks a partial read (more entries than one page)', () => {
    expect(drainRemains([entry({})], 80, 20_000).partial).toBe(true);
  });
});
