import type { ScoreInput } from '../core/index.js';

/** A reward function: reads what it needs from one rollout and returns a score (booleans count as 0/1). */
export type RewardFn<Parser = unknown> = (input: ScoreInput<Parser>) => number | boolean | Promise<number | boolean>;

/** A group-level reward function: sees every rollout of one prompt and returns one score per rollout. */
export type GroupRewardFn<Parser = unknown> = (
  inputs: ScoreInput<Parser>[],
) => readonly (number | boolean)[] | Promise<readonly (number | boolean)[]>;

/** A per-rollout reward function with an explicit name and weight. */
export interface RewardSpec<Parser = unknown> {
  name?: string;
  fn: RewardFn<Parser>;
  /** Contribution to the reward; 0 records the score as a metric only. Default 1. */
  weight?: number;
}

/** A group-level reward function with an explicit name and weight. */
export interface GroupRewardSpec<Parser = unknown> {
  name?: string;
  groupFn: GroupRewardFn<Parser>;
  /** Contribution to the reward; 0 records the score as a metric only. Default 1. */
  weight?: number;
}

/** Anything a rubric accepts as one of its functions. */
export type RewardEntry<Parser = unknown> = RewardFn<Parser> | RewardSpec<Parser> | GroupRewardSpec<Parser>;

/** Converts a function's return value to a finite number, or explains why it cannot. */
export function toScore(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new TypeError(`reward function returned ${describeValue(value)}; return a finite number or a boolean`);
}

function describeValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  return typeof value;
}
