import type { Example } from '../core/environment.js';
import { numberedGroups } from '../rollout/rollout-group.js';
import { sampleGroups } from '../rollout/sample-groups.js';
import { isZeroVariance } from './filtering.js';
import { snapshotOf, type GrpoRun, type GrpoState, type SampledBatch } from './grpo-state.js';

/**
 * Stage 1, sample: the scored rollout groups of step `forStep`. Takes `promptsPerStep` examples from
 * the data order and `groupSize` rollouts of each, with rollout seeds forked from `rng.fork(forStep)`;
 * under `zeroVariance: 'resample'`, draws more prompts (up to `maxResampleRounds` rounds) until
 * `promptsPerStep` groups have reward variance. Group `k` of the step gets the id `${forStep}:${k}`
 * (counting across rounds), which travels to the sampler, the rollouts and the training sequences.
 * Reads and advances `state.data` and `state.rng`.
 */
export async function sampleStep(run: GrpoRun, state: GrpoState, forStep: number): Promise<SampledBatch> {
  const { config, env, engine } = run;
  const versionAtStart = state.policyVersion;
  const batchRng = state.rng.fork(forStep);
  const groups: SampledBatch['groups'] = [];
  let samplingSeconds = 0;
  let scoringSeconds = 0;
  const sampleMore = async (prompts: number) => {
    // The examples are taken before the first await: with `async`, the next step's draw happens in order.
    const examples: Example[] = state.data.take(prompts).map((i) => env.dataset[i]!);
    const grouping = numberedGroups(`${forStep}:`, groups.length);
    const more = await sampleGroups({ env, sampler: engine.sampler, examples, groupSize: config.groupSize, sampling: run.sampling, rng: batchRng, grouping, concurrency: config.concurrency, maxTurns: config.maxTurns });
    groups.push(...more.groups);
    samplingSeconds += more.samplingSeconds;
    scoringSeconds += more.scoringSeconds;
  };
  await sampleMore(config.promptsPerStep);
  let rounds = 0;
  if (config.zeroVariance === 'resample') {
    const useful = () => groups.filter((g) => !isZeroVariance(g.filter((r) => r.stopReason !== 'error').map((r) => r.reward))).length;
    while (useful() < config.promptsPerStep && rounds < config.maxResampleRounds) {
      rounds++;
      await sampleMore(config.promptsPerStep - useful());
    }
  }
  const versions = groups.flat().flatMap((r) => r.turns.map((t) => t.policyVersion).filter((v): v is number => v !== undefined));
  return {
    step: forStep,
    groups,
    samplingSeconds,
    scoringSeconds,
    policyVersion: versions.length ? Math.min(...versions) : versionAtStart,
    resampleRounds: rounds,
    snapshot: snapshotOf(state.data, state.rng),
  };
}

/**
 * The batch to train step `current` on: a batch carried over an engine restart, else the one sampled
 * ahead (`async`), resampled when more than `maxStaleness` optimizer steps old, else a fresh one.
 * With `async`, starts sampling the following step's batch before returning (it runs while this step
 * trains).
 */
export async function nextBatch(run: GrpoRun, state: GrpoState, current: number): Promise<SampledBatch> {
  const { config } = run;
  let batch: SampledBatch;
  if (state.carried) {
    batch = state.carried;
    state.carried = undefined;
  } else if (state.pending) {
    batch = await state.pending;
    state.pending = undefined;
    if (state.policyVersion - batch.policyVersion > config.maxStaleness) batch = await sampleStep(run, state, current);
  } else {
    batch = await sampleStep(run, state, current);
  }
  if (config.async && current < config.steps) {
    state.pending = sampleStep(run, state, current + 1);
    state.pending.catch(() => {}); // awaited next step; avoid an unhandled rejection meanwhile
  }
  return batch;
}
