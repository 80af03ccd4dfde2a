import { describe, expect, it } from 'vitest';
import { alignSeries, curveKeys, smooth } from './series.js';

describe('chart series', () => {
  it('smooths with a debiased EMA and keeps gaps', () => {
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const s = smooth([2, null, 2, 2], 0.9);
    expect(s[1]).toBeNull();
    for (const v of [s[0], s[2], s[3]]) expect(v).toBeCloseTo(2, 12); // a constant stays constant: no pull toward 0
    const [a, b] = smooth([0, 10], 0.5) as number[];
    expect(a).toBe(0);
    expect(b).toBeCloseTo((0.5 * 0 * 0.5 + 0.5 * 10) / (1 - 0.25), 12);
  });

  it('aligns runs on the union of their x values', () => {
    const [xs, ys] = alignSeries([
      { x: [0, 1, 2], y: [1, 2, 3] },
      { x: [1, 3], y: [5, 6] },
    ]);
    expect(xs).toEqual([0, 1, 2, 3]);
    expect(ys).toEqual([
      [1, 2, 3, null],
      [null, 5, null, 6],
    ]);
  });

  it('orders reward first, rubric functions next, and skips axes', () => {
    const keys = curveKeys([[{ schemaVersion: 1, step: 0, time: 0, zeta: 1, kl: 0.1, 'reward/format': 1, reward: 0.5, rewardStd: 0.1, loss: null }]]);
    expect(keys).toEqual(['reward', 'reward/format', 'kl', 'zeta']);
  });
});
