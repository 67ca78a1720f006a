import { describe, expect, it } from 'vitest';
import { PagedRows } from './paged-rows';

describe('PagedRows', () => {
  it('claims each missing page once and serves rows once filled', () => {
    const p = new PagedRows<number>(100);
    expect(p.claim(150, 320)).toEqual([1, 2, 3]);
    expect(p.claim(150, 320)).toEqual([]);
    p.fill(1, Array.from({ length: 100 }, (_, i) => 100 + i), 1);
    expect(p.rowAt(150)).toBe(150);
    expect(p.rowAt(250)).toBeUndefined();
    p.fail(2);
    expect(p.claim(250, 250)).toEqual([2]);
  });
  it('keeps a bounded number of pages, dropping the farthest from the view', () => {
    const p = new PagedRows<number>(10, 3);
    for (const pg of [0, 1, 2, 50]) {
      p.claim(pg * 10, pg * 10);
      p.fill(pg, [pg], 50);
    }
    expect(p.loadedPages).toEqual([1, 2, 50]);
  });
  it('clear forgets pages and pending claims (filters changed)', () => {
    const p = new PagedRows<number>(10);
    p.claim(0, 5);
    p.clear();
    expect(p.claim(0, 5)).toEqual([0]);
  });
});
