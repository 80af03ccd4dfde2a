/**
 * Unbiased pass@k for one example with `n` samples of which `c` passed: the chance that at least
 * one of `k` samples drawn without replacement passes, 1 - C(n-c, k) / C(n, k). Needs k <= n.
 */
export function passAtK(options: { n: number; c: number; k: number }): number {
  const { n, c, k } = options;
  if (k < 1 || k > n) throw new RangeError(`pass@k needs 1 <= k <= n (k=${k}, n=${n})`);
  if (n - c < k) return 1;
  // product form avoids huge binomials: C(n-c,k)/C(n,k) = prod_{i=n-c+1..n} (1 - k/i)
  let fail = 1;
  for (let i = n - c + 1; i <= n; i++) fail *= 1 - k / i;
  return 1 - fail;
}

/** The ks worth reporting for groups of `n`: 1, 2, 4, … up to n, and n itself. */
export function defaultKs(n: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k <= n; k *= 2) ks.push(k);
  if (n >= 1 && ks.at(-1) !== n) ks.push(n);
  return ks;
}
