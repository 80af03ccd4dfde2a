import { ConfigError } from '../core/errors.js';
import type { Environment, Example, RolloutBudget } from '../core/environment.js';
import type { RolloutResult } from '../core/rollout-result.js';
import type { Sampler, SamplingArgs } from '../core/sampler.js';
import { dropTornTail, JsonlAppender, readResultsFile, resultKey, rewriteResultsFile } from './results-file.js';
import type { GroupingPolicy } from './rollout-group.js';
import { exampleSeeding } from './rollout-seed.js';
import { scheduleRollouts } from './schedule-rollouts.js';

/** Concurrency limits: model-facing generation and rubric scoring are limited separately. */
export interface RolloutConcurrency {
  /** Rollouts generating at once. Default 32. */
  generation?: number;
  /** Scoring calls at once (one per rollout, or one per group). Default 16. */
  scoring?: number;
}

/** Reported after every recorded rollout. */
export interface RolloutProgress {
  /** Rollouts the run is responsible for (examples × groupSize). */
  total: number;
  /** Rollouts recorded so far, resumed ones included. */
  completed: number;
  /** Rollouts taken from an earlier run's results file. */
  resumed: number;
  /** Recorded rollouts with an error. */
  errors: number;
  /** Mean reward over the recorded rollouts (NaN before the first). */
  meanReward: number;
}

export interface RunRolloutsOptions {
  env: Environment;
  sampler: Sampler;
  /** Examples to roll out. Default: the environment's eval split, else its dataset. */
  examples?: readonly Example[];
  /** Samples per example (a GRPO group). Default 1. */
  groupSize?: number;
  /**
   * Sampling args for every model call. A `seed` is combined with the example id and sample index,
   * so the members of a group sample differently yet reproducibly.
   */
  sampling?: SamplingArgs;
  /** A number sets the generation limit (scoring gets half of it, at least 1); or set both. */
  concurrency?: number | RolloutConcurrency;
  /** Wall-clock limit per rollout attempt; the rollout is aborted and recorded as an error. */
  timeoutMs?: number;
  /** Extra attempts for rollouts that ended in a sampler error (after the sampler's own retries). Default 0. */
  retries?: number;
  budget?: RolloutBudget;
  /** Seeds each rollout's rng (together with example id and sample index). Default 0. */
  seed?: number;
  /** Group ids for the rollouts (`numberedGroups`…). Default: none, results carry no `groupId`. */
  grouping?: GroupingPolicy;
  /** JSONL file to append results to as they are scored. */
  out?: string;
  /** Keep results already in `out` and run only the missing (exampleId, sample) pairs. */
  resume?: boolean;
  /**
   * With `resume`: also run again the rollouts recorded with an error (a dead server, a timeout);
   * their lines are removed from `out` first, so the file keeps one line per rollout. Default false.
   */
  retryErrors?: boolean;
  onProgress?: (progress: RolloutProgress) => void;
  /** Called for every newly recorded result (not for resumed ones). */
  onResult?: (result: RolloutResult) => void;
  /** Aborting stops new rollouts, aborts running ones (they are not recorded) and returns what was recorded. */
  signal?: AbortSignal;
}

/**
 * Runs `groupSize` rollouts per example through an environment and scores them (`scheduleRollouts`
 * with eval's seeding, `exampleSeeding`): generation and scoring run under separate concurrency
 * limits and overlap. A failure inside one rollout is recorded on it and the run goes on. Results
 * are appended to `out` as they are scored, so an interrupted run can `resume`. Returns the results
 * in example order, then sample order.
 */
export async function runRollouts(options: RunRolloutsOptions): Promise<RolloutResult[]> {
  const { env, sampler } = options;
  const examples = options.examples ?? env.evalDataset ?? env.dataset;
  const groupSize = options.groupSize ?? 1;
  const sampling = options.sampling ?? {};
  const seed = options.seed ?? 0;
  const retries = options.retries ?? 0;
  const { generation, scoring } = resolveConcurrency(options.concurrency);
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new ConfigError(`groupSize must be a positive integer, got ${groupSize}`);
  if (!Number.isInteger(retries) || retries < 0) throw new ConfigError(`retries must be a non-negative integer, got ${retries}`);
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) throw new ConfigError(`timeoutMs must be positive, got ${options.timeoutMs}`);
  if (options.resume && !options.out) throw new ConfigError('resume needs `out`, the results file to resume from');
  if (options.retryErrors && !options.resume) throw new ConfigError('retryErrors needs resume: it runs again the errored rollouts of an earlier attempt');
  const seen = new Set<string>();
  for (const e of examples) {
    const key = `${typeof e.id}:${e.id}`;
    if (seen.has(key)) throw new ConfigError(`example id ${JSON.stringify(e.id)} appears twice; ids must be unique to resume and group rollouts`);
    seen.add(key);
  }

  const total = examples.length * groupSize;
  const results: (RolloutResult | undefined)[] = new Array(total);
  const group = env.rubric.needsGroup;
  let resumed = 0;

  // Results from an earlier attempt.
  if (options.out) {
    const existing = await readResultsFile(options.out);
    if (!options.resume && existing.results.length > 0) {
      throw new ConfigError(`results file ${options.out} already has ${existing.results.length} results; pass resume to continue it or choose another path`);
    }
    if (options.resume) {
      await dropTornTail(options.out);
      let kept = existing.results;
      if (options.retryErrors) {
        kept = kept.filter((r) => !r.error);
        if (kept.length < existing.results.length) await rewriteResultsFile(options.out, kept);
      }
      const byKey = new Map(kept.map((r) => [resultKey(r.exampleId, r.sample), r]));
      examples.forEach((example, exampleIndex) => {
        const found = Array.from({ length: groupSize }, (_, s) => byKey.get(resultKey(example.id, s)));
        // A group-scored example is kept only whole: its rewards depend on every member.
        if (group && found.some((r) => !r)) return;
        found.forEach((r, s) => {
          if (!r) return;
          results[exampleIndex * groupSize + s] = r;
          resumed++;
        });
      });
    }
  }

  const todo: { exampleIndex: number; sample: number }[] = [];
  examples.forEach((_, exampleIndex) => {
    for (let sample = 0; sample < groupSize; sample++) {
      if (!results[exampleIndex * groupSize + sample]) todo.push({ exampleIndex, sample });
    }
  });

  const appender = options.out && todo.length > 0 ? await JsonlAppender.open(options.out) : undefined;
  let completed = resumed;
  let errors = 0;
  let rewardSum = 0;
  for (const r of results) {
    if (!r) continue;
    rewardSum += r.reward;
    if (r.error) errors++;
  }

  const record = (result: RolloutResult, index: number) => {
    results[index] = result;
    appender?.write(result);
    completed++;
    rewardSum += result.reward;
    if (result.error) errors++;
    options.onResult?.(result);
    options.onProgress?.({ total, completed, resumed, errors, meanReward: completed ? rewardSum / completed : Number.NaN });
  };

  try {
    await scheduleRollouts({
      env,
      sampler,
      examples,
      groupSize,
      slots: todo,
      sampling,
      seeding: exampleSeeding({ seed, samplingSeed: sampling.seed }),
      ...(options.grouping ? { grouping: options.grouping } : {}),
      concurrency: { generation, scoring },
      timeoutMs: options.timeoutMs,
      retries,
      budget: options.budget,
      signal: options.signal,
      onResult: (result, slot) => record(result, slot.exampleIndex * groupSize + slot.sample),
    });
  } finally {
    await appender?.close();
  }
  return results.filter((r): r is RolloutResult => r !== undefined);
}

function resolveConcurrency(c: RunRolloutsOptions['concurrency']): Required<RolloutConcurrency> {
  const generation = typeof c === 'number' ? c : (c?.generation ?? 32);
  const scoring = typeof c === 'number' ? Math.max(1, Math.floor(c / 2)) : (c?.scoring ?? 16);
  for (const [name, v] of [['generation', generation], ['scoring', scoring]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`concurrency.${name} must be a positive integer, got ${v}`);
  }
  return { generation, scoring };
}
