import type { Environment, Example } from '../core/environment.js';
import { Rng } from '../core/rng.js';
import type { RolloutResult } from '../core/rollout-result.js';
import type { Sampler } from '../core/sampler.js';
import { mean } from './advantages.js';
import { sampleGroups } from '../rollout/sample-groups.js';

/** A held-out evaluation: mean reward, per-function means, and the scored rollouts. */
export interface EvalReport {
  label: string;
  examples: number;
  samplesPerExample: number;
  temperature: number;
  reward: number;
  /** Mean of every rubric function's score. */
  metrics: Record<string, number>;
  errors: number;
  seconds: number;
  results: RolloutResult[];
}

/**
 * Evaluates the sampler's policy on `examples` (the held-out split): `samples` rollouts per
 * example at `temperature` (0 = greedy), scored by the environment's rubric. The rng seed is
 * fixed, so two evals of the same policy see the same sampling seeds.
 */
export async function evaluatePolicy(options: {
  env: Environment;
  sampler: Sampler;
  examples: readonly Example[];
  label: string;
  temperature: number;
  maxTokens: number;
  /** Nucleus sampling (the policy being trained samples with the training run's topP). Default: the sampler's. */
  topP?: number;
  /** Rollouts per example (default 1). */
  groupSize?: number;
  /** @deprecated The old name of `groupSize`; read for one release. */
  samples?: number;
  maxTurns?: number;
  concurrency?: number;
  seed?: number;
}): Promise<EvalReport> {
  const samples = options.groupSize ?? options.samples ?? 1;
  const t0 = performance.now();
  const sampled = await sampleGroups({
    env: options.env,
    sampler: options.sampler,
    examples: options.examples,
    groupSize: samples,
    sampling: { temperature: options.temperature, maxTokens: options.maxTokens, ...(options.topP !== undefined ? { topP: options.topP } : {}) },
    rng: new Rng(options.seed ?? 12345),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.maxTurns !== undefined ? { maxTurns: options.maxTurns } : {}),
  });
  const results = sampled.groups.flat();
  const names = new Set(results.flatMap((r) => Object.keys(r.metrics)));
  const metrics: Record<string, number> = {};
  for (const name of names) metrics[name] = mean(results.map((r) => r.metrics[name] ?? 0));
  return {
    label: options.label,
    examples: options.examples.length,
    samplesPerExample: samples,
    temperature: options.temperature,
    reward: mean(results.map((r) => r.reward)),
    metrics,
    errors: results.filter((r) => r.stopReason === 'error').length,
    seconds: (performance.now() - t0) / 1000,
    results,
  };
}

/** The held-out reward of an environment's scripted teacher (its `demonstrate()`), per-function means too. */
export interface TeacherReport {
  examples: number;
  samplesPerExample: number;
  reward: number;
  metrics: Record<string, number>;
}

/**
 * Scores the environment's teacher on `examples` the way a policy is scored: `groupSize`
 * demonstrations per example (a noisy teacher's demonstrations are samples), each scored by the
 * environment's rubric. Seeded, so it is the same figure every run. Undefined without `demonstrate`.
 */
export async function evaluateTeacher(options: { env: Environment; examples: readonly Example[]; groupSize?: number; seed?: number }): Promise<TeacherReport | undefined> {
  const { env } = options;
  if (!env.demonstrate || options.examples.length === 0) return undefined;
  const rng = new Rng(options.seed ?? 12345).fork('teacher');
  const groupSize = options.groupSize ?? 1;
  const rewards: number[] = [];
  const byName = new Map<string, number[]>();
  for (const example of options.examples) {
    for (let i = 0; i < groupSize; i++) {
      const completion = env.demonstrate(example, rng);
      const scores = await env.rubric.score({ prompt: example.prompt, completion, answer: example.answer, info: example.info, task: example.task, state: {}, turns: [], stopReason: 'terminated', parser: env.parser });
      rewards.push(scores.reward);
      for (const [name, value] of Object.entries(scores.metrics)) byName.set(name, [...(byName.get(name) ?? []), value]);
    }
  }
  const metrics: Record<string, number> = {};
  for (const [name, values] of byName) metrics[name] = mean(values);
  return { examples: options.examples.length, samplesPerExample: groupSize, reward: mean(rewards), metrics };
}
