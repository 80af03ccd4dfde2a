import { describe, expect, it } from 'vitest';
import type { Environment } from '../core/environment.js';
import { Rng } from '../core/rng.js';
import { singleTurnEnv } from '../envs/single-turn-env.js';
import { runRollouts } from './run-rollouts.js';
import { rubric } from '../rubrics/rubric.js';
import { ScriptedSampler } from '../testing/scripted-sampler.js';
import { sampleGroups } from './sample-groups.js';

// Written before the two schedulers became one: the seeds each scheme gives a rollout must not move,
// or eval results and the main job's numbers would change.

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `q${i}`, question: `say ${i}`, answer: String(i) }));
const sampler = () => new ScriptedSampler({ respond: () => 'x' });

/** An env that records, per rollout, the sampling seed it was given and the first draw of its rng. */
function recordingEnv(): { env: Environment; seen: [string | number, number | undefined, number][] } {
  const base = singleTurnEnv({ name: 'say', dataset: rows(2), rubric: rubric({ funcs: [{ name: 'one', fn: () => 1 }] }) });
  const seen: [string | number, number | undefined, number][] = [];
  const env: Environment = {
    ...base,
    rollout: (example, ctx) => {
      seen.push([example.id, ctx.sampling.seed, ctx.rng.nextU32()]);
      return base.rollout(example, ctx);
    },
  };
  return { env, seen };
}

describe('rollout seeding is pinned', () => {
  it("eval's scheme: each rollout's seed and rng come from (seed, example id, sample)", async () => {
    const { env, seen } = recordingEnv();
    await runRollouts({ env, sampler: sampler(), groupSize: 2, seed: 5, sampling: { seed: 11 }, concurrency: 1, examples: env.dataset });
    expect(seen).toMatchInlineSnapshot(`
      [
        [
          "q0",
          2040772017,
          4137856533,
        ],
        [
          "q0",
          1187177703,
          762804425,
        ],
        [
          "q1",
          1146762103,
          1928946064,
        ],
        [
          "q1",
          2026823151,
          2505323363,
        ],
      ]
    `);
  });

  it("training's scheme: each rollout's rng and seed are forked from the step rng in (group, sample) order", async () => {
    const { env, seen } = recordingEnv();
    await sampleGroups({ env, sampler: sampler(), examples: env.dataset, groupSize: 2, sampling: {}, rng: new Rng(7).fork(3), concurrency: 1 });
    expect(seen).toMatchInlineSnapshot(`
      [
        [
          "q0",
          1000566669,
          812118280,
        ],
        [
          "q0",
          646307229,
          2066227429,
        ],
        [
          "q1",
          765873249,
          2924609202,
        ],
        [
          "q1",
          1861409714,
          1277965582,
        ],
      ]
    `);
  });
});
