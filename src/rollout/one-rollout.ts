import { EnvError, describeError } from '../core/errors.js';
import type { Environment, Example, RolloutBudget, RolloutOutput, Scores } from '../core/environment.js';
import type { Rng } from '../core/rng.js';
import { ROLLOUT_SCHEMA_VERSION, type ErrorRecord, type RolloutResult } from '../core/rollout-result.js';
import type { Sampler, SamplingArgs } from '../core/sampler.js';

/**
 * One call of `env.rollout`, with an optional per-attempt timeout. Never throws: an environment that
 * throws, or a rollout that runs out of time, comes back as a rollout with `stopReason: 'error'`.
 * The timeout (and the run's own signal) end the wait whether or not the environment, its tools or
 * its agent look at the signal: a promise that never settles cannot hold the run.
 */
export async function rolloutOnce(
  env: Environment,
  example: Example,
  ctx: {
    sampler: Sampler;
    sampling: SamplingArgs;
    rng: Rng;
    budget?: RolloutBudget | undefined;
    signal?: AbortSignal | undefined;
    timeoutMs?: number | undefined;
    groupId?: string | undefined;
  },
): Promise<RolloutOutput> {
  const timeout = ctx.timeoutMs !== undefined ? AbortSignal.timeout(ctx.timeoutMs) : undefined;
  const signal = timeout && ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : (timeout ?? ctx.signal);
  let output: RolloutOutput;
  try {
    output = await untilAborted(env.rollout(example, {
      sampler: ctx.sampler,
      sampling: ctx.sampling,
      rng: ctx.rng,
      ...(ctx.budget ? { budget: ctx.budget } : {}),
      ...(signal ? { signal } : {}),
      ...(ctx.groupId !== undefined ? { groupId: ctx.groupId } : {}),
    }), signal);
  } catch (error) {
    // Environments should record failures themselves; one that throws still only fails its rollout.
    const record = describeError(error instanceof Error && 'code' in error ? error : new EnvError(`environment '${env.name}' threw: ${describeError(error).message}`, { cause: error }));
    output = {
      prompt: example.prompt,
      completion: [],
      turns: [],
      stopReason: 'error',
      state: {},
      usage: { promptTokens: 0, completionTokens: 0 },
      error: record,
    };
  }
  if (timeout?.aborted && !ctx.signal?.aborted && output.stopReason === 'error') {
    const error: ErrorRecord = { name: 'TimeoutError', code: 'rollout_timeout', message: `rollout exceeded its ${ctx.timeoutMs} ms limit` };
    output = { ...output, error };
  }
  return output;
}

/** `work`, or a rejection as soon as `signal` aborts (the abandoned promise's outcome is ignored). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new EnvError(`rollout abandoned: ${describeError(signal.reason).message}`, { cause: signal.reason }));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A finished, scored rollout as it is recorded (results files, training batches, eval reports). */
export function toRolloutResult(options: {
  example: Example;
  sample: number;
  groupId?: string;
  output: RolloutOutput;
  scores: Scores;
  timing: RolloutResult['timing'];
}): RolloutResult {
  const { example, output, scores } = options;
  const result: RolloutResult = {
    schemaVersion: ROLLOUT_SCHEMA_VERSION,
    exampleId: example.id,
    sample: options.sample,
    ...(options.groupId !== undefined ? { groupId: options.groupId } : {}),
    prompt: output.prompt,
    completion: output.completion,
    info: example.info ?? {},
    turns: output.turns,
    stopReason: output.stopReason,
    reward: Number.isFinite(scores.reward) ? scores.reward : 0,
    metrics: scores.metrics,
    timing: options.timing,
    usage: output.usage,
  };
  if (example.task !== undefined) result.task = example.task;
  if (example.answer !== undefined) result.answer = example.answer;
  if (output.error) result.error = output.error;
  if (scores.errors && Object.keys(scores.errors).length) result.scoringErrors = scores.errors;
  return result;
}
