import { describeError } from '../core/errors.js';
import type { Environment, Example, RolloutOutput, ScoreInput, Scores } from '../core/environment.js';
import type { Rng } from '../core/rng.js';
import { ROLLOUT_SCHEMA_VERSION, type RolloutResult } from '../core/rollout-result.js';
import type { Sampler, SamplingArgs } from '../core/sampler.js';

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
 * A failure inside a rollout is recorded on it (`stopReason: 'error'`); a rubric failure scores 0.
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
  const outputs: { output: RolloutOutput; ms: number }[] = new Array<{ output: RolloutOutput; ms: number }>(jobs.length);
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const index = next++;
      const job = jobs[index]!;
      const start = performance.now();
      let output: RolloutOutput;
      try {
        output = await env.rollout(job.example, {
          sampler,
          sampling: { ...sampling, seed: job.seed, returnTokens: true },
          rng: job.rng,
          ...(options.maxTurns !== undefined ? { budget: { maxTurns: options.maxTurns } } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (error) {
        // Environments should record failures themselves; one that throws still costs only this rollout.
        output = { prompt: job.example.prompt, completion: [], turns: [], stopReason: 'error', state: {}, usage: { promptTokens: 0, completionTokens: 0 }, error: describeError(error) };
      }
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
    const inputs: ScoreInput[] = members.map(({ i }) => {
      const o = outputs[i]!.output;
      return { prompt: o.prompt, completion: o.completion, answer: example.answer, info: example.info, task: example.task, state: o.state, turns: o.turns, stopReason: o.stopReason, parser: env.parser };
    });
    const start = performance.now();
    let scores: Scores[];
    try {
      scores = env.rubric.needsGroup ? await env.rubric.scoreGroup(inputs) : await Promise.all(inputs.map((input) => env.rubric.score(input)));
    } catch (error) {
      const message = describeError(error).message;
      scores = inputs.map(() => ({ reward: 0, metrics: {}, errors: { rubric: message } }));
    }
    const scoringMs = (performance.now() - start) / Math.max(1, members.length);
    groups.push(
      members.map(({ job, i }, k) => {
        const { output, ms } = outputs[i]!;
        const s = scores[k]!;
        return {
          schemaVersion: ROLLOUT_SCHEMA_VERSION,
          exampleId: example.id,
          sample: job.sample,
          ...(example.task !== undefined ? { task: example.task } : {}),
          prompt: output.prompt,
          completion: output.completion,
          answer: example.answer,
          info: example.info,
          turns: output.turns,
          stopReason: output.stopReason,
          reward: Number.isFinite(s.reward) ? s.reward : 0,
          metrics: s.metrics,
          ...(output.error ? { error: output.error } : {}),
          ...(s.errors && Object.keys(s.errors).length ? { scoringErrors: s.errors } : {}),
          timing: { generationMs: ms, scoringMs, totalMs: ms + scoringMs },
          usage: output.usage,
        } satisfies RolloutResult;
      }),
    );
  }
  return { groups, samplingSeconds, scoringSeconds: (performance.now() - t1) / 1000 };
}
