import { describe, expect, it } from 'vitest';
import { computeAdvantages, mean, std, summarize } from './advantages.js';

describe('computeAdvantages', () => {
  const rewards = [
    [1, 0, 0, 1],
    [1, 1, 1, 1],
    [0, 0, 0, 2],
  ];

  it('centres on the group mean and scales by the group std', () => {
    const adv = computeAdvantages({ rewards, scale: 'group' });
    // group 0: mean 0.5, std 0.5 → ±1
    expect(adv[0]).toEqual([1, -1, -1, 1].map((x) => expect.closeTo(x, 5)));
    // equal rewards → 0, not NaN
    expect(adv[1]).toEqual([0, 0, 0, 0]);
    // group 2: mean 0.5, std sqrt(0.75)
    const s = Math.sqrt(0.75);
    expect(adv[2]![3]).toBeCloseTo(1.5 / s, 5);
    expect(adv[2]![0]).toBeCloseTo(-0.5 / s, 5);
  });

  it('does not scale with scale=none (Dr. GRPO)', () => {
    const adv = computeAdvantages({ rewards, scale: 'none' });
    expect(adv).toEqual([
      [0.5, -0.5, -0.5, 0.5],
      [0, 0, 0, 0],
      [-0.5, -0.5, -0.5, 1.5],
    ]);
  });

  it('scales by the batch std of the centred values with scale=batch', () => {
    const adv = computeAdvantages({ rewards, scale: 'batch' });
    const centred = [0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0, -0.5, -0.5, -0.5, 1.5];
    const s = std(centred);
    expect(adv.flat()).toEqual(centred.map((c) => expect.closeTo(c / s, 5)));
  });

  it('uses the leave-one-out baseline with rloo', () => {
    const adv = computeAdvantages({ rewards: [[3, 1, 2]], scale: 'none', rloo: true });
    // r_i − mean of the others
    expect(adv[0]).toEqual([3 - 1.5, 1 - 2.5, 2 - 2].map((x) => expect.closeTo(x, 10)));
  });

  it('gives a group of one advantage 0', () => {
    expect(computeAdvantages({ rewards: [[5]] })).toEqual([[0]]);
  });
});

describe('stats', () => {
  it('mean/std/summarize on fixed inputs', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(std([2, 4, 4, 4, 5, 5, 7, 9])).toBe(2);
    expect(summarize([3, -1, 2])).toEqual({ mean: 4 / 3, std: expect.closeTo(std([3, -1, 2]), 10), min: -1, max: 3 });
    expect(summarize([])).toEqual({ mean: 0, std: 0, min: 0, max: 0 });
  });
});
