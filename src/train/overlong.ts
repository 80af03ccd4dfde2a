import type { StopReason } from '../core/trajectory.js';

/** Truncated (overlong) rollouts: trained on as is, masked out of the loss, or given a penalty. */
export type OverlongPolicy = 'none' | 'mask' | 'penalty';

/** A rollout's reward after the overlong policy, and whether its tokens stay in the loss. */
export interface OverlongOutcome {
  reward: number;
  /** False when the rollout must not contribute to the loss (its advantage still counts in the baseline). */
  trainable: boolean;
  overlong: boolean;
}

/**
 * Applies the overlong policy to one rollout. A rollout is overlong when it stopped `truncated`
 * (a budget or max-tokens cut): its outcome is unknown, so DAPO masks it; a penalty instead makes
 * running long a learnable mistake.
 */
export function applyOverlong(options: {
  reward: number;
  stopReason: StopReason;
  policy: OverlongPolicy;
  penalty?: number;
}): OverlongOutcome {
  const overlong = options.stopReason === 'truncated';
  if (!overlong || options.policy === 'none') return { reward: options.reward, trainable: true, overlong };
  if (options.policy === 'mask') return { reward: options.reward, trainable: false, overlong };
  return { reward: options.reward + (options.penalty ?? -1), trainable: true, overlong };
}
