import type { Example } from '../core/environment.js';

/**
 * How a scheduler names its rollout groups (the `groupSize` rollouts of one example in one
 * schedule): the id is set on every rollout's context, so the environment's chat requests carry it
 * (a `CoalescingSampler` merges by it), and on every recorded result, so the training batch and the
 * engine see the same group. `undefined`: the rollouts carry no group id.
 */
export interface GroupingPolicy {
  groupId(exampleIndex: number, example: Example): string | undefined;
}

/** No group ids (eval runs: results files stay as they were). */
export const noGroupIds: GroupingPolicy = { groupId: () => undefined };

/** Groups numbered in schedule order under a prefix: `${prefix}${offset + exampleIndex}`. */
export function numberedGroups(prefix: string, offset = 0): GroupingPolicy {
  return { groupId: (exampleIndex) => `${prefix}${offset + exampleIndex}` };
}
