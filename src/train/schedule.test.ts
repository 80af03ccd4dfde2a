import { describe, expect, it } from 'vitest';
import { DataOrder } from './data-order.js';
import { learningRate } from './schedule.js';

describe('learningRate', () => {
  const base = { lr: 1, warmupSteps: 0, totalSteps: 5 };
  it('constant', () => expect([1, 3, 5].map((step) => learningRate({ ...base, step, schedule: 'constant' }))).toEqual([1, 1, 1]));
  it('linear decays from lr', () => expect([1, 2, 5].map((step) => learningRate({ ...base, step, schedule: 'linear' }))).toEqual([1, 0.8, expect.closeTo(0.2, 10)]));
  it('cosine decays from lr', () => {
    expect(learningRate({ ...base, step: 1, schedule: 'cosine' })).toBeCloseTo(1, 10);
    expect(learningRate({ ...base, step: 5, schedule: 'cosine' })).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI * 0.8)), 10);
  });
  it('warms up linearly', () => expect([1, 2].map((step) => learningRate({ ...base, warmupSteps: 2, step, schedule: 'constant' }))).toEqual([0.5, 1]));
});

describe('DataOrder', () => {
  it('visits every index once per epoch and reshuffles', () => {
    const order = new DataOrder({ size: 5, seed: 3 });
    const first = order.take(5);
    expect([...first].sort()).toEqual([0, 1, 2, 3, 4]);
    const second = order.take(5);
    expect([...second].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(order.epoch).toBe(1);
  });

  it('resumes from (epoch, position) with the same sequence', () => {
    const a = new DataOrder({ size: 7, seed: 9 });
    a.take(10);
    const resumed = new DataOrder({ size: 7, seed: 9, epoch: a.epoch, position: a.position });
    expect(resumed.take(12)).toEqual(a.take(12));
  });
});
