import { describe, expect, it } from 'vitest';
import type { RolloutResult } from '../core/rollout-result.js';
import { defaultKs } from '../core/pass-at-k.js';
import { summarizeRollouts } from './summary.js';

function result(exampleId: string, sample: number, reward: number, extra: Partial<RolloutResult> = {}): RolloutResult {
  return {
    schemaVersion: 1,
    exampleId,
    sample,
    prompt: [],
    completion: [],
    info: {},
    turns: [],
    stopReason: 'terminated',
    reward,
    metrics: { correct: reward },
    timing: { generationMs: 1, scoringMs: 0, totalMs: 1 },
    usage: { promptTokens: 3, completionTokens: 4 },
    ...extra,
  };
}

describe('summarizeRollouts', () => {
  it('computes mean ± std, metric means, pass@k and error counts', () => {
    const results = [result('a', 0, 1), result('a', 1, 0), result('b', 0, 0), result('b', 1, 1)];
    const s = summarizeRollouts({ results });
    expect(s.rollouts).toBe(4);
    expect(s.examples).toBe(2);
    expect(s.meanReward).toBe(0.5);
    expect(s.stdReward).toBeCloseTo(0.5);
    expect(s.metrics.correct!.mean).toBe(0.5);
    // a and b: n=2,c=1 → pass@1 = .5, pass@2 = 1
    expect(s.passAtK).toEqual({ 1: 0.5, 2: 1 });
    expect(s.errors).toBe(0);
    expect(s.errorRate).toBe(0);
    expect(s.meanCompletionTokens).toBe(4);
  });

  it('reports errored rollouts apart: they are not reward 0 in the mean or pass@k', () => {
    const failed = { stopReason: 'error', error: { name: 'SamplerError', code: 'sampler_error', message: 'x' } } as const;
    const results = [
      result('a', 0, 1),
      result('a', 1, 1),
      result('b', 0, 1),
      result('b', 1, 0, failed),
      result('c', 0, 0, failed),
      result('c', 1, 0, { ...failed, error: { name: 'RolloutTimeout', code: 'timeout', message: 'y' } }),
    ];
    const s = summarizeRollouts({ results });
    expect(s.rollouts).toBe(6);
    expect(s.examples).toBe(3);
    expect(s.scored).toBe(3);
    expect(s.meanReward).toBe(1);
    expect(s.stdReward).toBe(0);
    expect(s.metrics.correct!.mean).toBe(1);
    // Scored samples: a n=2 c=2, b n=1 c=1, c none → k up to 1, pass@1 = 1.
    expect(s.passAtK).toEqual({ 1: 1 });
    expect(s.errors).toBe(3);
    expect(s.errorRate).toBe(0.5);
    expect(s.errorCodes).toEqual({ sampler_error: 2, timeout: 1 });
    expect(s.stopReasons).toEqual({ terminated: 3, error: 3 });
  });

  it('has no mean reward when every rollout failed', () => {
    const s = summarizeRollouts({ results: [result('a', 0, 0, { stopReason: 'error', error: { name: 'E', code: 'sampler_error', message: 'down' } })] });
    expect(s.meanReward).toBeNaN();
    expect(s.errorRate).toBe(1);
    expect(s.passAtK).toEqual({});
  });

  it('honours a pass threshold', () => {
    const s = summarizeRollouts({ results: [result('a', 0, 0.6)], passThreshold: 0.5 });
    expect(s.passAtK[1]).toBe(1);
  });

  it('lists powers of two up to n', () => {
    expect(defaultKs(8)).toEqual([1, 2, 4, 8]);
    expect(defaultKs(5)).toEqual([1, 2, 4, 5]);
    expect(defaultKs(1)).toEqual([1]);
  });
});
