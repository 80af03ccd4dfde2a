/**
 * Token buckets per client key: `perSecond` refill, `burst` capacity. `take` returns false when the
 * client is over its rate. Buckets idle for a minute are forgotten. `now` is injectable for tests.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  take(key: string): boolean {
    if (this.perSecond <= 0) return true;
    const t = this.now();
    if (t - this.lastSweep > 60_000) {
      for (const [k, b] of this.buckets) if (t - b.at > 60_000) this.buckets.delete(k);
      this.lastSweep = t;
    }
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.burst, at: t };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
