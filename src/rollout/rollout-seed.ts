import { Rng } from '../core/rng.js';

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
