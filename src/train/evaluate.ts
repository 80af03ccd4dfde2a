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
