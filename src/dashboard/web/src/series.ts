import type { StepMetrics } from '../../../core/run-manifest.js';

/** Keys of a metrics row that are axes or bookkeeping, not curves. */
const NOT_CURVES = new Set(['schemaVersion', 'step', 'time', 'rewardStd']);

/** Preferred chart order; other keys follow alphabetically. Rubric functions (`reward/<fn>`) follow reward. */
const ORDER = [
  'reward', 'evalReward', 'kl', 'clipFraction', 'entropy', 'completionLenMean', 'completionLenMax',
  'sampledTokensPerSecond', 'trainTokensPerSecond', 'staleness', 'loss', 'gradNorm', 'lr',
  'advantageMean', 'advantageStd', 'filteredGroups', 'erroredRollouts', 'stepSeconds',
];

/** Human titles of well-known metrics. */
export const TITLES: Record<string, string> = {
  reward: 'reward (mean ± std)',
  evalReward: 'eval reward',
  kl: 'KL',
  clipFraction: 'clip fraction',
  entropy: 'entropy',
  completionLenMean: 'completion length, mean (tokens)',
  completionLenMax: 'completion length, max (tokens)',
  sampledTokensPerSecond: 'sampling tokens / s',
  trainTokensPerSecond: 'training tokens / s',
  staleness: 'staleness (steps)',
  loss: 'loss',
  gradNorm: 'grad norm',
  lr: 'learning rate',
  advantageMean: 'advantage mean',
  advantageStd: 'advantage std',
  filteredGroups: 'filtered (zero-variance) groups',
  erroredRollouts: 'errored rollouts',
  stepSeconds: 'seconds per step',
};

/** The metric keys to chart, in display order, over all rows of all runs. */
export function curveKeys(rowsByRun: readonly (readonly StepMetrics[])[]): string[] {
  const keys = new Set<string>();
  for (const rows of rowsByRun) for (const row of rows) for (const [k, v] of Object.entries(row)) if (!NOT_CURVES.has(k) && typeof v === 'number') keys.add(k);
  const rank = (k: string) => {
    const i = ORDER.indexOf(k);
    if (i === 0) return [0, k] as const;
    if (k.startsWith('reward/') || k.startsWith('rewards/')) return [1, k] as const;
    return [i === -1 ? 100 : i + 2, k] as const;
  };
  return [...keys].sort((a, b) => {
    const [ra, ka] = rank(a);
    const [rb, kb] = rank(b);
    return ra - rb || ka.localeCompare(kb);
  });
}

/**
 * Exponential moving average over the non-null values, debiased so the first points are not pulled
 * toward zero (as TensorBoard does). `weight` 0 returns the input.
 */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return [...values];
  let acc = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    acc = acc * weight + (1 - weight) * v;
    n++;
    return acc / (1 - weight ** n);
  });
}

/**
 * Puts several runs' series on one x axis (the union of their x values, ascending); runs without
 * a value at some x get null there. Returns [xs, ys per run].
 */
export function alignSeries(series: readonly { x: readonly number[]; y: readonly (number | null)[] }[]): [number[], (number | null)[][]] {
  const xs = [...new Set(series.flatMap((s) => s.x))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const out: (number | null)[] = new Array(xs.length).fill(null);
    s.x.forEach((x, i) => (out[at.get(x)!] = s.y[i] ?? null));
    return out;
  });
  return [xs, ys];
}
