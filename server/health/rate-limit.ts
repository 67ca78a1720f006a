/** A sliding-window limit per key (a token's name): at most `limit` takes per `windowMs`. */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(readonly limit: number, private readonly windowMs: number, private readonly now: () => number = Date.now) {}

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    const list = (this.hits.get(key) ?? []).filter((t) => t > since);
    if (list.length > 0) this.hits.set(key, list);
    else this.hits.delete(key);
    return list;
  }

  /** True (and counted) when the key is under its limit. */
  take(key: string): boolean {
    const list = this.recent(key);
    if (list.length >= this.limit) return false;
    list.push(this.now());
    this.hits.set(key, list);
    return true;
  }

  retryAfterMs(key: string): number {
    const list = this.recent(key);
    return list.length < this.limit ? 0 : Math.max(0, list[0]! + this.windowMs - this.now());
  }
}
