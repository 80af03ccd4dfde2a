import { describe, expect, it } from 'vitest';
import { formatEvalTable } from './eval-table.js';
import { formatSeconds } from './eval-progress.js';

describe('formatEvalTable', () => {
  it('shows reward mean ± std, each metric, pass@k, errors and throughput', () => {
    const text = formatEvalTable({
      env: 'arithmetic',
      model: 'm',
      groupSize: 2,
      seconds: 2,
      freshRollouts: 4,
      resultsPath: 'runs/x/results.jsonl',
      summary: {
        rollouts: 4,
        examples: 2,
        scored: 3,
        meanReward: 0.5,
        stdReward: 0.5,
        metrics: { correct: { mean: 0.5, std: 0.5 }, format: { mean: 1, std: 0 } },
        passAtK: { 1: 0.5, 2: 0.75 },
        errors: 1,
        errorRate: 0.25,
        errorCodes: { sampler_error: 1 },
        scoringErrors: 0,
        stopReasons: { terminated: 3, error: 1 },
        meanCompletionTokens: 12,
      },
    });
    expect(text).toContain('arithmetic · m · 2 examples × 2 = 4 rollouts');
    expect(text).toMatch(/reward\s+0\.500 ± 0\.500 \(over 3 scored rollouts\)/);
    expect(text).toMatch(/ {2}correct\s+0\.500 ± 0\.500/);
    expect(text).toMatch(/ {2}format\s+1\.000 ± 0\.000/);
    expect(text).toMatch(/pass@2\s+0\.750/);
    expect(text).toMatch(/errors\s+1 \(sampler_error: 1\)/);
    expect(text).toMatch(/error rate\s+25\.0%/);
    expect(text).toMatch(/4 rollouts in 2\.0 s \(2\.0\/s\)/);
  });
});

describe('cli helpers', () => {
  it('formats ETAs', () => {
    expect(formatSeconds(42)).toBe('42s');
    expect(formatSeconds(185)).toBe('3m05s');
    expect(formatSeconds(3720)).toBe('1h02m');
    expect(formatSeconds(Number.POSITIVE_INFINITY)).toBe('?');
  });
});
