import { describe, expect, it } from 'vitest';
import { failingLine, stepKind } from './plan-lines';

describe('stepKind', () => {
  it.each([
    ['+ -A -t 10.0.0.1:80 -s rr', 'add'], ['add real server 10.1.0.2:80', 'add'],
    ['- -D -t 10.0.0.1:80', 'remove'], ['remove service TCP 10.0.0.1:80', 'remove'],
    ['~ weight 1 → 3', 'change'], ['edit service TCP 10.0.0.1:80 scheduler wlc → rr', 'change'],
  ])('%s → %s', (s, k) => expect(stepKind(s)).toBe(k));
});

describe('failingLine', () => {
  it('finds the line number in agent messages', () => {
    expect(failingLine('line 7: -a -t 10.0.0.1:80 -r 10.1.0.9: Scheduler or persistence engine not found')).toBe(7);
    expect(failingLine('Line 12, column 4: unknown option')).toBe(12);
    expect(failingLine('agent unreachable')).toBeNull();
  });
});

import { importErrorMessages } from './plan-lines';
describe('importErrorMessages', () => {
  it('prefers per-line zod issues over the generic message', () => {
    expect(importErrorMessages({ message: 'invalid input', data: { zodError: { issues: [{ message: 'line 3:4: unknown option -q' }] } } })).toEqual(['line 3:4: unknown option -q']);
    expect(importErrorMessages(new Error("line 2: the kernel refused '-A -t 1.1.1.1:80 -s nope': no such scheduler"))).toEqual(["line 2: the kernel refused '-A -t 1.1.1.1:80 -s nope': no such scheduler"]);
  });
});
