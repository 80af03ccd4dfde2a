import { describe, expect, it } from 'vitest';
import { ConfigError, Rng, type Example, type ScoreInput } from '../core/index.js';
import { ScriptedSampler } from '../testing/index.js';
import { XMLParser, rubric } from '../rubrics/index.js';
import { envGroup } from './env-group.js';
import { multiTurnEnv } from './multi-turn-env.js';
import { singleTurnEnv } from './single-turn-env.js';

const xml = new XMLParser({ fields: ['answer'] });
const math = singleTurnEnv({
  name: 'math',
  dataset: [{ id: 0, question: '1+1', answer: '2' }, { id: 1, question: '2+2', answer: '4' }],
  parser: xml,
  rubric: rubric({ funcs: [{ name: 'correct', fn: ({ completion, answer, parser }: ScoreInput<XMLParser>) => parser.parseAnswer(completion) === answer }] }),
  demonstrate: (ex) => [{ role: 'assistant', content: `<answer>${String(ex.answer)}</answer>` }],
});
const echo = multiTurnEnv({
  name: 'echo',
  dataset: [{ id: 0, question: 'say hi twice', answer: 'hi' }],
  evalDataset: [{ id: 'e0', question: 'say hi twice', answer: 'hi' }],
  rubric: rubric({ funcs: [{ name: 'said', fn: ({ completion }: ScoreInput) => completion.filter((m) => m.content === 'hi').length / 2 }] }),
  maxTurns: 2,
  envResponse: () => 'again',
});
const group = envGroup({ name: 'mix', envs: { math, echo } });
const roll = (ex: Example, script: string[]) => group.rollout(ex, { sampler: new ScriptedSampler({ script }), sampling: {}, rng: new Rng(0) });
const asInput = (ex: Example, out: Awaited<ReturnType<typeof roll>>): ScoreInput => ({ ...out, answer: ex.answer, info: ex.info, task: ex.task, parser: undefined });

describe('envGroup', () => {
  it('concatenates datasets, tagging each example with its task and a unique id', () => {
    expect(group.dataset.map((e) => [e.task, e.id])).toEqual([['math', 'math/0'], ['math', 'math/1'], ['echo', 'echo/0']]);
    // Eval falls back to the train set of envs without an evalDataset.
    expect(group.evalDataset!.map((e) => e.id)).toEqual(['math/0', 'math/1', 'echo/e0']);
    expect(group.rubric.functionNames).toEqual(['correct', 'said']);
  });

  it('routes rollouts and scoring (with the task env parser) by task', async () => {
    const m = group.dataset[1]!;
    const mOut = await roll(m, ['<answer>4</answer>']);
    expect(mOut.turns).toHaveLength(1);
    expect(await group.rubric.score(asInput(m, mOut))).toEqual({ reward: 1, metrics: { correct: 1 } });
    const e = group.dataset[2]!;
    const eOut = await roll(e, ['hi', 'hi']);
    expect(eOut.turns).toHaveLength(2);
    expect((await group.rubric.score(asInput(e, eOut))).metrics).toEqual({ said: 1 });
    const scores = await group.rubric.scoreGroup([asInput(m, mOut), asInput(m, mOut)]);
    expect(scores.map((s) => s.reward)).toEqual([1, 1]);
  });

  it('hands the sub-environment its own example id and routes demonstrate()', async () => {
    const demo = group.demonstrate(group.dataset[0]!, new Rng(0));
    expect(demo).toEqual([{ role: 'assistant', content: '<answer>2</answer>' }]);
    expect(() => group.demonstrate(group.dataset[2]!, new Rng(0))).toThrow(/has no demonstrate/);
  });

  it('an unknown task is recorded on the rollout and scores 0 with an error', async () => {
    const stray: Example = { id: 'x', prompt: [{ role: 'user', content: '?' }], task: 'chess', info: {} };
    const out = await roll(stray, []);
    expect(out.stopReason).toBe('error');
    expect(out.error!.message).toBe("unknown task 'chess'; available: math, echo");
    const s = await group.rubric.score(asInput(stray, out));
    expect(s.reward).toBe(0);
    expect(s.errors!['task']).toMatch(/unknown task 'chess'/);
  });

  it('rejects empty groups and non-environments', () => {
    expect(() => envGroup({ envs: {} })).toThrow(ConfigError);
    expect(() => envGroup({ envs: { a: {} as never } })).toThrow(/'a' is not an environment/);
  });
});
