import { describe, expect, it } from 'vitest';
import { TAB_GAP, tabsThatFit } from './tabs-fit';

describe('tabsThatFit', () => {
  const w = [80, 100, 60, 90];
  const total = 80 + 100 + 60 + 90 + 3 * TAB_GAP;

  it('all tabs when they fit exactly, no More button', () => {
    expect(tabsThatFit(w, total, 70)).toBe(4);
    expect(tabsThatFit([], 0, 70)).toBe(0);
  });

  it('one px short: as many as leave room for More', () => {
    // 80 + 4 + 100 + 4 + 60 + 4 + 70 = 322 fits in 341; the fourth tab then needs 94 more
    expect(tabsThatFit(w, total - 1, 70)).toBe(3);
    expect(tabsThatFit(w, 80 + TAB_GAP + 100 + TAB_GAP + 70, 70)).toBe(2);
    expect(tabsThatFit(w, 80 + TAB_GAP + 100 + TAB_GAP + 70 - 1, 70)).toBe(1);
  });

  it('no room at all: everything in More', () => {
    expect(tabsThatFit(w, 50, 70)).toBe(0);
  });
});
