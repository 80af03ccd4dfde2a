import type { Environment, Example } from '../core/environment.js';
import type { Rng } from '../core/rng.js';
import type { RolloutResult } from '../core/rollout-result.js';
import type { Sampler, SamplingArgs } from '../core/sampler.js';
import type { GroupingPolicy } from './rollout-group.js';
import { forkedSeeding } from './rollout-seed.js';
import { scheduleRollouts } from './schedule-rollouts.js';

/** Rollout groups for a set of prompts, with the wall-clock split the trainer reports. */
export interface SampledGroups {
  groups: RolloutResult[][]; // [prompts][groupSize]
  /** Until the last rollout was generated. */
  samplingSeconds: number;
  /** Scoring left after that (scoring overlaps generation). */
  scoringSeconds: number;
}

/**
 * Rolls out `groupSize` samples for each example and scores them, grouped by example: the
 * training side of `scheduleRollouts`. Each rollout's rng and sampling seed are forked from `rng`
 * in (example, sample) order (`forkedSeeding`), so results do not depend on timing; requests ask for
 * token ids (`returnTokens`). Generation and scoring share the `concurrency` limit (default 64).
 */
export async function sampleGroups(options: {
  env: Environment;
  sampler: Sampler;
  examples: readonly Example[];
  groupSize: number;
  sampling: SamplingArgs;
  rng: Rng;
  /** Group ids carried by the rollouts (and on to the sampler and the training batch). */
  grouping?: GroupingPolicy;
  concurrency?: number;
  maxTurns?: number;
  signal?: AbortSignal;
}): Promise<SampledGroups> {
  const { examples, groupSize } = options;
  const groups: RolloutResult[][] = examples.map(() => new Array<RolloutResult>(groupSize));
  const width = Math.max(1, options.concurrency ?? 64);
  const timing = await scheduleRollouts({
    env: options.env,
    sampler: options.sampler,
    examples,
    groupSize,
    sampling: { ...options.sampling, returnTokens: true },
    seeding: forkedSeeding(options.rng),
    ...(options.grouping ? { grouping: options.grouping } : {}),
    concurrency: { generation: width, scoring: width },
    budget: options.maxTurns !== undefined ? { maxTurns: options.maxTurns } : undefined,
    signal: options.signal,
    onResult: (result, slot) => (groups[slot.exampleIndex]![slot.sample] = result),
  });
  return { groups, ...timing };
}
