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
    const results = [
      result('a', 0, 1),
      result('a', 1, 0),
      result('b', 0, 0),
      result('b', 1, 0, { stopReason: 'error', error: { name: 'SamplerError', code: 'sampler_error', message: 'x' } }),
    ];
    const s = summarizeRollouts({ results });
    expect(s.rollouts).toBe(4);
    expect(s.examples).toBe(2);
    expect(s.meanReward).toBe(0.25);
    expect(s.stdReward).toBeCloseTo(Math.sqrt(0.1875));
    expect(s.metrics.correct!.mean).toBe(0.25);
    // a: n=2,c=1 → pass@1 = .5, pass@2 = 1; b: 0 → mean .25 and .5
    expect(s.passAtK).toEqual({ 1: 0.25, 2: 0.5 });
    expect(s.errors).toBe(1);
    expect(s.errorCodes).toEqual({ sampler_error: 1 });
    expect(s.stopReasons).toEqual({ terminated: 3, error: 1 });
    expect(s.meanCompletionTokens).toBe(4);
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
