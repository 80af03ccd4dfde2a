import { setMaxListeners } from 'node:events';
import type { Environment, Example, RolloutBudget, RolloutOutput, Scores } from '../core/environment.js';
import type { RolloutResult } from '../core/rollout-result.js';
import type { Sampler, SamplingArgs } from '../core/sampler.js';
import { rolloutOnce, toRolloutResult } from './one-rollout.js';
import { noGroupIds, type GroupingPolicy } from './rollout-group.js';
import type { RolloutSeeds, RolloutSlot, SeedingPolicy } from './rollout-seed.js';
import { scoreGroup, scoreOne } from './score-rollouts.js';
import { Semaphore } from './semaphore.js';

/** What `scheduleRollouts` runs: the rollouts of `slots` (example index, sample) of `examples`. */
export interface ScheduleRolloutsOptions {
  env: Environment;
  sampler: Sampler;
  examples: readonly Example[];
  /** Rollouts per example; a group-scored rubric scores an example once all of them are in. */
  groupSize: number;
  /** Default: every (example, sample) in order. A group-scored example must be all in or all out. */
  slots?: readonly { exampleIndex: number; sample: number }[];
  sampling: SamplingArgs;
  seeding: SeedingPolicy;
  grouping?: GroupingPolicy;
  /** Rollouts generating at once, and scoring calls at once. */
  concurrency: { generation: number; scoring: number };
  timeoutMs?: number | undefined;
  /** Extra attempts for rollouts that ended in a sampler error. Default 0. */
  retries?: number;
  budget?: RolloutBudget | undefined;
  /** Aborting stops new rollouts, aborts running ones (they are not reported) and returns. */
  signal?: AbortSignal | undefined;
  /** Called once per scored rollout, as soon as it is scored. */
  onResult: (result: RolloutResult, slot: RolloutSlot) => void;
}

/** Wall-clock split of a schedule: until the last rollout was generated, then until the last was scored. */
export interface ScheduleTiming {
  samplingSeconds: number;
  scoringSeconds: number;
}

interface Generated {
  output: RolloutOutput;
  started: number;
  generationMs: number;
}

/**
 * The one rollout scheduler, behind eval (`runRollouts`) and training (`sampleGroups`). Every slot's
 * seeds are drawn from the `seeding` policy up front, in slot order; then `generation` workers take
 * slots in that order (so a group's rollouts start together and groups finish early), and each
 * rollout is scored as soon as it is generated (a group-scored rubric: as soon as its group is),
 * under its own `scoring` limit, so generation and scoring overlap. A failure inside a rollout is
 * recorded on it; sampler errors are retried `retries` times with backoff. Each rollout's context
 * and result carry its group's id from `grouping`.
 */
export async function scheduleRollouts(options: ScheduleRolloutsOptions): Promise<ScheduleTiming> {
  const { env, sampler, examples, groupSize, sampling, seeding } = options;
  const grouping = options.grouping ?? noGroupIds;
  const retries = options.retries ?? 0;
  const slots: RolloutSlot[] = (options.slots ?? examples.flatMap((_, exampleIndex) => Array.from({ length: groupSize }, (_, sample) => ({ exampleIndex, sample })))).map(
    (s) => ({ ...s, example: examples[s.exampleIndex]! }),
  );
  const seeds = slots.map((slot) => seeding.seedsFor(slot, 0));
  const groupIds = examples.map((example, i) => grouping.groupId(i, example));
  // Only a caller's signal is passed on: a request with a signal is never merged by a coalescing sampler.
  const internal = options.signal ? new AbortController() : undefined;
  if (internal) setMaxListeners(0, internal.signal); // every request adds a listener
  const onAbort = () => internal?.abort(options.signal?.reason);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = internal?.signal;

  const t0 = performance.now();
  const scoringLimit = new Semaphore(options.concurrency.scoring);
  const scoringTasks: Promise<void>[] = [];
  const pendingGroups = new Map<number, { members: (Generated | undefined)[]; remaining: number }>();

  const finish = (slot: RolloutSlot, generated: Generated, scores: Scores, scoringMs: number) => {
    const timing = { generationMs: generated.generationMs, scoringMs, totalMs: performance.now() - generated.started };
    const groupId = groupIds[slot.exampleIndex];
    options.onResult(toRolloutResult({ example: slot.example, sample: slot.sample, output: generated.output, scores, timing, ...(groupId !== undefined ? { groupId } : {}) }), slot);
  };

  const score = (slot: RolloutSlot, generated: Generated) => {
    if (!env.rubric.needsGroup) {
      scoringTasks.push(
        scoringLimit.run(async () => {
          const start = performance.now();
          const scores = await scoreOne(env, slot.example, generated.output);
          finish(slot, generated, scores, performance.now() - start);
        }),
      );
      return;
    }
    let pending = pendingGroups.get(slot.exampleIndex);
    if (!pending) pendingGroups.set(slot.exampleIndex, (pending = { members: new Array(groupSize), remaining: groupSize }));
    pending.members[slot.sample] = generated;
    if (--pending.remaining > 0) return;
    pendingGroups.delete(slot.exampleIndex);
    const members = pending.members as Generated[];
    scoringTasks.push(
      scoringLimit.run(async () => {
        const start = performance.now();
        const scores = await scoreGroup(env, slot.example, members.map((g) => g.output));
        const ms = performance.now() - start;
        members.forEach((g, sample) => finish({ ...slot, sample }, g, scores[sample]!, ms));
      }),
    );
  };

  const generate = async (slot: RolloutSlot, first: RolloutSeeds): Promise<Generated | undefined> => {
    const started = performance.now();
    const groupId = groupIds[slot.exampleIndex];
    let output: RolloutOutput;
    for (let attempt = 0; ; attempt++) {
      const { rng, seed } = attempt === 0 ? first : seeding.seedsFor(slot, attempt);
      output = await rolloutOnce(env, slot.example, {
        sampler,
        sampling: seed === undefined ? sampling : { ...sampling, seed },
        rng,
        budget: options.budget,
        signal,
        timeoutMs: options.timeoutMs,
        groupId,
      });
      if (signal?.aborted) return output.stopReason === 'error' ? undefined : { output, started, generationMs: performance.now() - started };
      const retry = output.stopReason === 'error' && output.error?.code === 'sampler_error' && attempt < retries;
      if (!retry) break;
      await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
    }
    return { output, started, generationMs: performance.now() - started };
  };

  let next = 0;
  const worker = async () => {
    while (next < slots.length && !signal?.aborted) {
      const index = next++;
      const generated = await generate(slots[index]!, seeds[index]!);
      if (generated) score(slots[index]!, generated);
    }
  };

  let samplingSeconds = 0;
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency.generation, slots.length) }, worker));
    samplingSeconds = (performance.now() - t0) / 1000;
    // Scoring tasks are added while generation runs; wait for all of them, including late additions.
    for (let done = 0; done < scoringTasks.length; done = scoringTasks.length) await Promise.all(scoringTasks.slice(done));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return { samplingSeconds, scoringSeconds: (performance.now() - t0) / 1000 - samplingSeconds };
}
