import { describe, expect, it } from 'vitest';
import { filterZeroVariance, isZeroVariance } from './filtering.js';
import { applyOverlong } from './overlong.js';

describe('filterZeroVariance', () => {
  const groups = [{ r: [1, 1, 1] }, { r: [0, 1, 0] }, { r: [0, 0, 0] }, { r: [0.5, 0.5 + 1e-12] }];
  const rewardsOf = (g: { r: number[] }) => g.r;

  it('drops groups whose rewards are all equal, keeping the order on each side', () => {
    const split = filterZeroVariance({ groups, rewardsOf, policy: 'drop' });
    expect(split.kept).toEqual([groups[1]]);
    expect(split.dropped).toEqual([groups[0], groups[2], groups[3]]);
  });

  it('keeps everything with policy keep', () => {
    const split = filterZeroVariance({ groups, rewardsOf, policy: 'keep' });
    expect(split.kept).toEqual(groups);
    expect(split.dropped).toEqual([]);
  });

  it('resample drops like drop (the trainer refills)', () => {
    expect(filterZeroVariance({ groups, rewardsOf, policy: 'resample' }).kept).toEqual([groups[1]]);
  });

  it('isZeroVariance', () => {
    expect(isZeroVariance([0.2, 0.2])).toBe(true);
    expect(isZeroVariance([0.2, 0.3])).toBe(false);
  });
});

describe('applyOverlong', () => {
  it('leaves terminated rollouts alone', () => {
    expect(applyOverlong({ reward: 1, stopReason: 'terminated', policy: 'mask' })).toEqual({ reward: 1, trainable: true, overlong: false });
  });
  it('masks truncated rollouts', () => {
    expect(applyOverlong({ reward: 0.5, stopReason: 'truncated', policy: 'mask' })).toEqual({ reward: 0.5, trainable: false, overlong: true });
  });
  it('penalises truncated rollouts', () => {
    expect(applyOverlong({ reward: 0.5, stopReason: 'truncated', policy: 'penalty', penalty: -2 })).toEqual({ reward: -1.5, trainable: true, overlong: true });
  });
  it('trains on truncated rollouts with policy none', () => {
    expect(applyOverlong({ reward: 0, stopReason: 'truncated', policy: 'none' }).trainable).toBe(true);
  });
});
