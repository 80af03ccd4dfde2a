import type { RolloutResult } from '../core/rollout-result.js';
import { defaultKs, passAtK } from '../core/pass-at-k.js';

/** Figures for a set of scored rollouts, as shown in `keiko eval`'s closing table. */
export interface RolloutSummary {
  rollouts: number;
  examples: number;
  /** Rollouts that ran to a score (no rollout error); the reward figures are over these only. */
  scored: number;
  /** Mean reward over the scored rollouts (NaN when none was scored). */
  meanReward: number;
  /** Population standard deviation of the reward over the scored rollouts. */
  stdReward: number;
  /** Mean of every rubric function's score over the scored rollouts, by name. */
  metrics: Record<string, { mean: number; std: number }>;
  /** pass@k by k over scored rollouts (unbiased estimator over examples with at least k scored samples). */
  passAtK: Record<number, number>;
  /** Rollouts with an error (never scored), their share of all rollouts, and how many of each error code. */
  errors: number;
  errorRate: number;
  errorCodes: Record<string, number>;
  /** Rollouts whose reward functions raised (scored 0). */
  scoringErrors: number;
  stopReasons: Record<string, number>;
  meanCompletionTokens: number;
}

function meanStd(values: readonly number[]): { mean: number; std: number } {
  if (values.length === 0) return { mean: Number.NaN, std: Number.NaN };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / values.length) };
}

/**
 * Summarises rollouts: reward mean ± std, per-metric means, pass@k and error counts. A rollout
 * passes when its reward is at least `passThreshold` (default 1, i.e. fully correct for 0–1 rubrics).
 * A rollout that ended in an error (the server died, a timeout) was never scored: it counts in
 * `errors`/`errorRate`, not as reward 0 in the means or pass@k. Rollouts whose reward functions
 * raised were scored (0 for that function) and count in both `scoringErrors` and the means.
 */
export function summarizeRollouts(options: { results: readonly RolloutResult[]; passThreshold?: number; ks?: readonly number[] }): RolloutSummary {
  const { results } = options;
  const threshold = options.passThreshold ?? 1;
  const scored = results.filter((r) => !r.error);
  const reward = meanStd(scored.map((r) => r.reward));
  const metricValues = new Map<string, number[]>();
  const errorCodes: Record<string, number> = {};
  const stopReasons: Record<string, number> = {};
  const byExample = new Map<string, { n: number; c: number }>();
  let errors = 0;
  let scoringErrors = 0;
  let completionTokens = 0;
  for (const r of results) {
    stopReasons[r.stopReason] = (stopReasons[r.stopReason] ?? 0) + 1;
    completionTokens += r.usage.completionTokens;
    if (r.error) {
      errors++;
      errorCodes[r.error.code] = (errorCodes[r.error.code] ?? 0) + 1;
      continue;
    }
    for (const [name, value] of Object.entries(r.metrics)) {
      let list = metricValues.get(name);
      if (!list) metricValues.set(name, (list = []));
      list.push(value);
    }
    if (r.scoringErrors && Object.keys(r.scoringErrors).length) scoringErrors++;
    const key = `${typeof r.exampleId}:${r.exampleId}`;
    const entry = byExample.get(key) ?? { n: 0, c: 0 };
    entry.n++;
    if (r.reward >= threshold) entry.c++;
    byExample.set(key, entry);
  }
  const groups = [...byExample.values()];
  const minN = groups.length ? Math.min(...groups.map((g) => g.n)) : 0;
  const ks = options.ks ?? defaultKs(minN);
  const passAt: Record<number, number> = {};
  for (const k of ks) {
    const eligible = groups.filter((g) => g.n >= k);
    if (eligible.length === 0) continue;
    passAt[k] = eligible.reduce((s, g) => s + passAtK({ n: g.n, c: g.c, k }), 0) / eligible.length;
  }
  const metrics: RolloutSummary['metrics'] = {};
  for (const [name, values] of metricValues) metrics[name] = meanStd(values);
  return {
    rollouts: results.length,
    examples: new Set(results.map((r) => `${typeof r.exampleId}:${r.exampleId}`)).size,
    scored: scored.length,
    meanReward: reward.mean,
    stdReward: reward.std,
    metrics,
    passAtK: passAt,
    errors,
    errorRate: results.length ? errors / results.length : 0,
    errorCodes,
    scoringErrors,
    stopReasons,
    meanCompletionTokens: results.length ? completionTokens / results.length : Number.NaN,
  };
}
