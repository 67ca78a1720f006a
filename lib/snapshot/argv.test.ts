import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findGarbage, hasGarbage, splitWords } from './argv';

// text with the characters the line reader treats specially: blanks, newlines, '#', control and non-text code units
const chars = fc.constantFrom('a', '-', '1', ' ', '\t', '\r', '\n', '#', '\u0000', '\u0007', '\u000b', '\u001f', '\u007f', '\u0085',
  '\u00a0', '\ufffd', '\ud800', '\udfff', 'é', 'ipvsadm ');
const text = fc.array(chars, { maxLength: 60 }).map((cs) => cs.join(''));

describe('reading lines in place', () => {
  it('hasGarbage(text) is findGarbage on some line of it', () => {
    fc.assert(fc.property(text, (t) => {
      expect(hasGarbage(t)).toBe(t.split('\n').some((l) => findGarbage(l) !== null));
    }), { numRuns: 3000 });
  });

  it('splitWords of a range is splitWords of that slice', () => {
    fc.assert(fc.property(text, fc.nat(60), fc.nat(60), (t, a, b) => {
      const start = Math.min(a, b, t.length), end = Math.min(Math.max(a, b), t.length);
      expect(splitWords(t, start, end)).toEqual(splitWords(t.slice(start, end)));
    }), { numRuns: 3000 });
  });
});
