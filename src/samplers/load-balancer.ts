/** How requests are spread over several endpoints. */
export type LoadBalancing = 'least-outstanding' | 'round-robin';

/**
 * Picks one of several endpoints per request. `least-outstanding` sends each request to the endpoint
 * with the fewest requests in flight (ties broken round-robin), which adapts to uneven servers;
 * `round-robin` simply rotates.
 */
export class LoadBalancer<T> {
  private readonly outstanding: number[];
  private cursor = 0;

  constructor(
    readonly endpoints: readonly T[],
    private readonly strategy: LoadBalancing = 'least-outstanding',
  ) {
    if (endpoints.length === 0) throw new RangeError('LoadBalancer needs at least one endpoint');
    this.outstanding = endpoints.map(() => 0);
  }

  /** Requests in flight per endpoint, in endpoint order. */
  inFlight(): readonly number[] {
    return this.outstanding;
  }

  /** Runs `fn` on the chosen endpoint, counting it as outstanding until it settles. */
  async run<R>(fn: (endpoint: T, index: number) => Promise<R>): Promise<R> {
    const index = this.pick();
    this.outstanding[index]!++;
    try {
      return await fn(this.endpoints[index]!, index);
    } finally {
      this.outstanding[index]!--;
    }
  }

  private pick(): number {
    const n = this.endpoints.length;
    if (n === 1) return 0;
    const start = this.cursor;
    this.cursor = (this.cursor + 1) % n;
    if (this.strategy === 'round-robin') return start;
    let best = start;
    for (let k = 1; k < n; k++) {
      const i = (start + k) % n;
      if (this.outstanding[i]! < this.outstanding[best]!) best = i;
    }
    return best;
  }
}
