import type { Environment, Example, RolloutOutput, Scores } from '../core/environment.js';
import type { Rng } from '../core/rng.js';
import type { RolloutResult } from '../core/rollout-result.js';
import type { Sampler, SamplingArgs } from '../core/sampler.js';
import { rolloutOnce, toRolloutResult } from '../rollout/one-rollout.js';
import { scoreGroup, scoreOne } from '../rollout/score-rollouts.js';

/** Rollout groups for a set of prompts, with the wall-clock split the trainer reports. */
export interface SampledGroups {
  groups: RolloutResult[][]; // [prompts][groupSize]
  samplingSeconds: number;
  scoringSeconds: number;
}

/**
 * Rolls out `groupSize` samples for each example through the environment (all rollouts in flight
 * together, up to `concurrency`), then scores each group with the rubric. Generation and scoring are
 * separate phases so their wall-clock times can be reported apart. Each rollout gets its own rng
 * stream and sampling seed forked from `rng`, in a fixed order, so results do not depend on timing.
 * Rollouts are run, scored and recorded as `runRollouts` does (a failure inside a rollout is recorded
 * on it; failed rollouts and rubric failures score 0); only the scheduling differs, and the seeding.
 */
export async function sampleGroups(options: {
  env: Environment;
  sampler: Sampler;
  examples: readonly Example[];
  groupSize: number;
  sampling: SamplingArgs;
  rng: Rng;
  concurrency?: number;
  maxTurns?: number;
  signal?: AbortSignal;
}): Promise<SampledGroups> {
  const { env, sampler, examples, groupSize, sampling, rng } = options;
  interface Job {
    example: Example;
    group: number;
    sample: number;
    rng: Rng;
    seed: number;
  }
  const jobs: Job[] = [];
  examples.forEach((example, group) => {
    for (let sample = 0; sample < groupSize; sample++) {
      const jobRng = rng.fork(`${group}:${sample}`);
      jobs.push({ example, group, sample, rng: jobRng, seed: jobRng.nextU32() & 0x7fffffff });
    }
  });
  const outputs = new Array<{ output: RolloutOutput; ms: number }>(jobs.length);
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const index = next++;
      const job = jobs[index]!;
      const start = performance.now();
      const output = await rolloutOnce(env, job.example, {
        sampler,
        sampling: { ...sampling, seed: job.seed, returnTokens: true },
        rng: job.rng,
        budget: options.maxTurns !== undefined ? { maxTurns: options.maxTurns } : undefined,
        signal: options.signal,
      });
      outputs[index] = { output, ms: performance.now() - start };
    }
  };
  const width = Math.max(1, Math.min(options.concurrency ?? 64, jobs.length));
  await Promise.all(Array.from({ length: width }, () => worker()));
  const samplingSeconds = (performance.now() - t0) / 1000;

  const t1 = performance.now();
  const groups: RolloutResult[][] = [];
  for (let g = 0; g < examples.length; g++) {
    const example = examples[g]!;
    const members = jobs.map((job, i) => ({ job, i })).filter(({ job }) => job.group === g);
    const memberOutputs = members.map(({ i }) => outputs[i]!.output);
    const start = performance.now();
    const scores: Scores[] = env.rubric.needsGroup
      ? await scoreGroup(env, example, memberOutputs)
      : await Promise.all(memberOutputs.map((output) => scoreOne(env, example, output)));
    const scoringMs = (performance.now() - start) / Math.max(1, members.length);
    groups.push(
      members.map(({ job, i }, k) => {
        const { output, ms } = outputs[i]!;
        return toRolloutResult({ example, sample: job.sample, output, scores: scores[k]!, timing: { generationMs: ms, scoringMs, totalMs: ms + scoringMs } });
      }),
    );
  }
  return { groups, samplingSeconds, scoringSeconds: (performance.now() - t1) / 1000 };
}
