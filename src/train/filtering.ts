/** What to do with groups whose rewards are all equal (they carry no GRPO signal). */
export type ZeroVariancePolicy = 'keep' | 'drop' | 'resample';

/** Rewards closer than this count as equal. */
export const ZERO_VARIANCE_TOL = 1e-9;

/** True when every reward in the group is the same (within `ZERO_VARIANCE_TOL`). */
export function isZeroVariance(rewards: readonly number[]): boolean {
  if (rewards.length === 0) return true;
  let min = Infinity;
  let max = -Infinity;
  for (const r of rewards) {
    if (r < min) min = r;
    if (r > max) max = r;
  }
  return max - min <= ZERO_VARIANCE_TOL;
}

/** The groups split by whether they carry signal, each side in input order. */
export interface ZeroVarianceSplit<G> {
  kept: G[];
  dropped: G[];
}

/**
 * Splits groups into those with reward variance and those without (DAPO dynamic sampling). With
 * policy `keep` nothing is dropped; `drop` and `resample` both drop here — the trainer then samples
 * replacement prompts for `resample`.
 */
export function filterZeroVariance<G>(options: {
  groups: readonly G[];
  rewardsOf: (group: G) => readonly number[];
  policy: ZeroVariancePolicy;
}): ZeroVarianceSplit<G> {
  const split: ZeroVarianceSplit<G> = { kept: [], dropped: [] };
  for (const group of options.groups) {
    if (options.policy !== 'keep' && isZeroVariance(options.rewardsOf(group))) split.dropped.push(group);
    else split.kept.push(group);
  }
  return split;
}
