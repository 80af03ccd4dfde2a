/** The q-quantile (0 ≤ q ≤ 1) of `xs` by the nearest-rank method (the bench's p50 / p99). */
export function percentile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
