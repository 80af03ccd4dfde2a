import { Rng } from '../core/rng.js';
import type { Example } from '../core/environment.js';

/** Where one rollout sits in a schedule: its example (and that example's index) and its sample index. */
export interface RolloutSlot {
  exampleIndex: number;
  example: Example;
  sample: number;
}

/** The randomness of one rollout attempt: its rng stream and, when set, the sampler's seed. */
export interface RolloutSeeds {
  rng: Rng;
  /** The server-side sampling seed (`SamplingArgs.seed`); absent = the request keeps its own. */
  seed?: number;
}

/**
 * How a scheduler seeds its rollouts. The scheduler calls `seedsFor(slot, 0)` for every slot to run,
 * in slot order (example by example, sample by sample) and before any rollout starts, so a policy
 * may keep state (draw from one rng) and still not depend on timing; retries call it again with
 * `attempt` ≥ 1 when their turn comes.
 */
export interface SeedingPolicy {
  seedsFor(slot: RolloutSlot, attempt: number): RolloutSeeds;
}

/**
 * Eval's scheme: a rollout's rng depends only on (`seed`, example id, sample, attempt) and its
 * sampling seed only on (`samplingSeed`, example id, sample), so results do not depend on order,
 * concurrency or resuming. Without `samplingSeed` the requests carry no seed.
 */
export function exampleSeeding(options: { seed: number; samplingSeed?: number | undefined }): SeedingPolicy {
  const { seed, samplingSeed: base } = options;
  return {
    seedsFor: ({ example, sample }, attempt) => ({
      rng: rolloutRng({ seed: seed + attempt * 0x9e3779b1, exampleId: example.id, sample }),
      ...(base !== undefined ? { seed: samplingSeed(base, example.id, sample) } : {}),
    }),
  };
}

/**
 * Training's scheme: each rollout forks its rng from `rng` with the label `exampleIndex:sample`
 * (`:attempt` on retries) and draws its 31-bit sampling seed first from that fork. The forks advance
 * `rng`, so a step's seeds follow from the step rng and the order of its slots. Every rollout's
 * rng is its own; its sampling seed reaches the server unless a `CoalescingSampler` merges the
 * group's first-turn requests into one `n`-choice request, which carries the first rollout's seed.
 */
export function forkedSeeding(rng: Rng): SeedingPolicy {
  return {
    seedsFor: ({ exampleIndex, sample }, attempt) => {
      const fork = rng.fork(attempt === 0 ? `${exampleIndex}:${sample}` : `${exampleIndex}:${sample}:${attempt}`);
      return { rng: fork, seed: fork.nextU32() & 0x7fffffff };
    },
  };
}

/** The server-side sampling seed of one rollout: a 31-bit value derived from the run's seed. */
export function samplingSeed(seed: number, exampleId: string | number, sample: number): number {
  return rolloutRng({ seed, exampleId, sample }).nextU32() >>> 1;
}

/**
 * The rng of one rollout, derived from the run seed, the example id and the sample index only, so a
 * rollout draws the same numbers whatever order rollouts run in and whether the run was resumed.
 */
export function rolloutRng(options: { seed: number; exampleId: string | number; sample: number }): Rng {
  return new Rng(hash32(`${options.seed}\u0000${typeof options.exampleId}:${options.exampleId}\u0000${options.sample}`));
}

/** FNV-1a over the UTF-16 code units of `text`. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}
