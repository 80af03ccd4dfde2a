import { describe, expect, it } from 'vitest';
import { passAtK } from '../core/pass-at-k.js';

describe('passAtK', () => {
  it('matches the combinatorial definition', () => {
    const choose = (n: number, k: number): number => (k < 0 || k > n ? 0 : k === 0 ? 1 : (choose(n - 1, k - 1) * n) / k);
    for (const [n, c, k] of [[10, 3, 1], [10, 3, 4], [8, 0, 2], [8, 8, 8], [5, 2, 4]] as const) {
      expect(passAtK({ n, c, k })).toBeCloseTo(1 - choose(n - c, k) / choose(n, k), 12);
    }
    expect(passAtK({ n: 4, c: 1, k: 1 })).toBe(0.25);
  });
  it('rejects k outside 1..n', () => {
    expect(() => passAtK({ n: 2, c: 1, k: 3 })).toThrow(RangeError);
  });
});
