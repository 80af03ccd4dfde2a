/** How group-centred rewards are scaled: by each group's std (GRPO), the batch std, or not (Dr. GRPO). */
export type AdvantageScale = 'group' | 'batch' | 'none';

/** Added to standard deviations before dividing, so equal-reward groups give 0, not NaN. */
export const ADVANTAGE_EPS = 1e-6;

/**
 * GRPO advantages for a batch of groups. Each group's baseline is its mean reward, or with `rloo`
 * the mean of the *other* rewards (leave-one-out: r_i − mean_{j≠i} r_j = G/(G−1)·(r_i − mean)).
 * The centred values are then divided by the group's std, the std over the whole batch of centred
 * values, or nothing. Stds are population stds. Groups of one get advantage 0.
 *
 * @returns advantages with the same shape as `rewards`: [groups][samples]
 */
export function computeAdvantages(options: {
  rewards: readonly (readonly number[])[];
  scale?: AdvantageScale;
  rloo?: boolean;
}): number[][] {
  const { rewards, scale = 'group', rloo = false } = options;
  const centred = rewards.map((group) => {
    const g = group.length;
    if (g < 2) return group.map(() => 0);
    const m = mean(group);
    const factor = rloo ? g / (g - 1) : 1;
    return group.map((r) => (r - m) * factor);
  });
  if (scale === 'none') return centred;
  if (scale === 'group') {
    return rewards.map((group, i) => {
      const s = std(group);
      return centred[i]!.map((a) => a / (s + ADVANTAGE_EPS));
    });
  }
  const s = std(centred.flat());
  return centred.map((group) => group.map((a) => a / (s + ADVANTAGE_EPS)));
}

/** Arithmetic mean; 0 for an empty list. */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Population standard deviation; 0 for fewer than two values. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / xs.length);
}

/** Summary statistics for metrics: mean, std, min, max (all 0 when empty). */
export function summarize(xs: readonly number[]): { mean: number; std: number; min: number; max: number } {
  if (xs.length === 0) return { mean: 0, std: 0, min: 0, max: 0 };
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return { mean: mean(xs), std: std(xs), min, max };
}
