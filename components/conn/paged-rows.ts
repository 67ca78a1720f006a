/**
 * A sparse cache of server-side pages of a long list, for a virtualised
 * table: it says which pages a visible range still needs, and forgets pages
 * far from the view so 100,000 entries never all sit in memory.
 */
export class PagedRows<T> {
  private readonly pages = new Map<number, T[]>();
  private readonly pending = new Set<number>();
  constructor(readonly pageSize: number, private readonly keepPages = 12) {}

  rowAt(index: number): T | undefined {
    return this.pages.get(Math.floor(index / this.pageSize))?.[index % this.pageSize];
  }

  /** Pages covering [start, end] that are neither loaded nor being loaded; marks them pending. */
  claim(start: number, end: number): number[] {
    const out: number[] = [];
    for (let p = Math.floor(start / this.pageSize); p <= Math.floor(end / this.pageSize); p++) {
      if (!this.pages.has(p) && !this.pending.has(p)) {
        this.pending.add(p);
        out.push(p);
      }
    }
    return out;
  }

  fill(page: number, rows: T[], around: number): void {
    this.pending.delete(page);
    this.pages.set(page, rows);
    // Evict the pages farthest from the current view.
    if (this.pages.size > this.keepPages) {
      const far = [...this.pages.keys()].sort((a, b) => Math.abs(b - around) - Math.abs(a - around));
      for (const p of far.slice(0, this.pages.size - this.keepPages)) this.pages.delete(p);
    }
  }

  fail(page: number): void {
    this.pending.delete(page);
  }

  clear(): void {
    this.pages.clear();
    this.pending.clear();
  }

  get loadedPages(): number[] {
    return [...this.pages.keys()].sort((a, b) => a - b);
  }
}
