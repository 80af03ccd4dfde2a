import { z } from 'zod';
import { defaultKs, passAtK } from '../core/pass-at-k.js';
import type { RolloutFields } from './stored-rollout.js';
import { rolloutHasError } from './rollout-query.js';

/** Per-example row of an eval: samples, how many passed, rewards and pass@k. */
export const EvalExampleRow = z.object({
  exampleId: z.union([z.string(), z.number()]),
  task: z.string().optional(),
  n: z.number().int(),
  passed: z.number().int(),
  errors: z.number().int(),
  meanReward: z.number(),
  maxReward: z.number(),
  /** Keyed by k as a string ("1", "2", "4"…). */
  passAtK: z.record(z.string(), z.number()),
});
export type EvalExampleRow = z.infer<typeof EvalExampleRow>;

/** An eval's results: pass@k averaged over examples and the per-example table. */
export const EvalSummary = z.object({
  schemaVersion: z.literal(1).default(1),
  threshold: z.number(),
  rollouts: z.number().int(),
  meanReward: z.number(),
  ks: z.array(z.number().int()),
  passAtK: z.record(z.string(), z.number()),
  /** Mean of each rubric function over all rollouts. */
  metrics: z.record(z.string(), z.number()),
  examples: z.array(EvalExampleRow),
});
export type EvalSummary = z.infer<typeof EvalSummary>;

/**
 * Groups rollouts by example and computes pass@k, where a sample passes when its reward is at
 * least `threshold`. k runs over powers of two up to the smallest group size (and that size).
 */
export function summarizeEval(options: { rollouts: readonly RolloutFields[]; threshold?: number }): EvalSummary {
  const { rollouts, threshold = 1 } = options;
  const groups = new Map<string, RolloutFields[]>();
  for (const r of rollouts) {
    const key = `${typeof r.exampleId}:${r.exampleId}`;
    const list = groups.get(key);
    if (list) list.push(r);
    else groups.set(key, [r]);
  }
  const minN = groups.size ? Math.min(...[...groups.values()].map((g) => g.length)) : 0;
  const ks = defaultKs(minN);

  const examples: EvalExampleRow[] = [];
  for (const group of groups.values()) {
    const n = group.length;
    const passed = group.filter((r) => r.reward >= threshold).length;
    const rewards = group.map((r) => r.reward);
    const row: EvalExampleRow = {
      exampleId: group[0]!.exampleId,
      n,
      passed,
      errors: group.filter(rolloutHasError).length,
      meanReward: rewards.reduce((a, b) => a + b, 0) / n,
      maxReward: Math.max(...rewards),
      passAtK: Object.fromEntries(ks.map((k) => [String(k), passAtK({ n, c: passed, k })])),
    };
    if (group[0]!.task !== undefined) row.task = group[0]!.task;
    examples.push(row);
  }
  const metricSums = new Map<string, { sum: number; count: number }>();
  for (const r of rollouts) {
    for (const [name, value] of Object.entries(r.metrics)) {
      const acc = metricSums.get(name) ?? { sum: 0, count: 0 };
      acc.sum += value;
      acc.count++;
      metricSums.set(name, acc);
    }
  }
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return {
    schemaVersion: 1,
    threshold,
    rollouts: rollouts.length,
    meanReward: mean(rollouts.map((r) => r.reward)),
    ks,
    passAtK: Object.fromEntries(ks.map((k) => [String(k), mean(examples.map((e) => e.passAtK[String(k)]!))])),
    metrics: Object.fromEntries([...metricSums].map(([name, acc]) => [name, acc.sum / acc.count])),
    examples,
  };
}
