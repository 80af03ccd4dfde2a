import { describe, expect, it } from 'vitest';
import { ConfigError, type ScoreInput } from '../core/index.js';
import { rubric } from './rubric.js';
import { rubricGroup } from './rubric-group.js';
import { XMLParser } from './xml-parser.js';

function input(text: string, answer: unknown = '4', extra: Partial<ScoreInput> = {}): ScoreInput {
  return {
    prompt: [{ role: 'user', content: '2+2' }],
    completion: [{ role: 'assistant', content: text }],
    answer, info: {}, task: undefined, state: {}, turns: [], stopReason: 'terminated', parser: undefined, ...extra,
  };
}

const correct = ({ completion, answer }: ScoreInput) => completion[0]?.content === answer;

describe('rubric', () => {
  it('weights functions and keeps every raw score as a metric (weight 0 = metric only)', async () => {
    const length = ({ completion }: ScoreInput) => (completion[0]?.content ?? '').length;
    const r = rubric({ funcs: [correct, { name: 'half', fn: () => 0.5, weight: 2 }, { name: 'length', fn: length, weight: 0 }] });
    const s = await r.score(input('4'));
    expect(s).toEqual({ reward: 2, metrics: { correct: 1, half: 0.5, length: 1 } });
    expect(r.functionNames).toEqual(['correct', 'half', 'length']);
    expect(r.needsGroup).toBe(false);
  });

  it('`weights` overrides per-entry weights', async () => {
    const r = rubric({ funcs: [correct, { name: 'one', fn: () => 1 }], weights: [0.5, 0.25] });
    expect((await r.score(input('4'))).reward).toBe(0.75);
  });

  it('a throwing or non-numeric function scores 0 and its error is recorded; others still count', async () => {
    const boom = () => {
      throw new Error('kaput');
    };
    const asyncBoom = async () => Promise.reject(new Error('async kaput'));
    const nan = () => Number.NaN;
    const r = rubric({ funcs: [correct, boom, asyncBoom, nan] });
    const s = await r.score(input('4'));
    expect(s.reward).toBe(1);
    expect(s.metrics).toEqual({ correct: 1, boom: 0, asyncBoom: 0, nan: 0 });
    expect(s.errors).toEqual({ boom: 'kaput', asyncBoom: 'async kaput', nan: expect.stringMatching(/returned NaN/) });
  });

  it('runs async functions in parallel', async () => {
    let running = 0;
    let peak = 0;
    const slow = (name: string) => ({
      name,
      fn: async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
        return 1;
      },
    });
    const r = rubric({ funcs: [slow('a'), slow('b'), slow('c')] });
    const t0 = performance.now();
    const s = await r.score(input('4'));
    expect(s.reward).toBe(3);
    expect(peak).toBe(3);
    expect(performance.now() - t0).toBeLessThan(80);
  });

  it('hands the rubric parser to functions when the input has none', async () => {
    const parser = new XMLParser({ fields: ['answer'] });
    const r = rubric({ funcs: [{ name: 'parsed', fn: ({ completion, answer, parser: p }: ScoreInput<XMLParser>) => p.parseAnswer(completion) === answer }], parser });
    expect((await r.score(input('<answer>4</answer>'))).reward).toBe(1);
  });

  it('group functions see every rollout of a prompt', async () => {
    // Relative score: 1 for the shortest completion(s) in the group, 0 for others.
    const shortest = {
      name: 'shortest',
      groupFn: (inputs: ScoreInput[]) => {
        const lens = inputs.map((i) => (i.completion[0]?.content ?? '').length);
        const min = Math.min(...lens);
        return lens.map((l) => l === min);
      },
      weight: 0.5,
    };
    const r = rubric({ funcs: [correct, shortest] });
    expect(r.needsGroup).toBe(true);
    const scores = await r.scoreGroup([input('4'), input('four'), input('44')]);
    expect(scores.map((s) => s.reward)).toEqual([1.5, 0, 0]);
    expect(scores[1]!.metrics).toEqual({ correct: 0, shortest: 0 });
    // score() on a group rubric scores a group of one.
    expect((await r.score(input('4'))).reward).toBe(1.5);
  });

  it('a group function returning the wrong number of scores records an error on every rollout', async () => {
    const r = rubric({ funcs: [{ name: 'bad', groupFn: () => [1] }] });
    const scores = await r.scoreGroup([input('a'), input('b')]);
    expect(scores.every((s) => s.reward === 0 && /returned 1 scores for 2 rollouts/.test(s.errors!['bad']!))).toBe(true);
  });

  it('fails at construction with a message naming the fix', () => {
    expect(() => rubric({ funcs: [] })).toThrow(ConfigError);
    expect(() => rubric({ funcs: [correct], weights: [1, 2] })).toThrow(/1 functions but 2 weights; give one weight per function/);
    expect(() => rubric({ funcs: [() => 1] })).toThrow(/has no name; use a named function or pass \{ name/);
    expect(() => rubric({ funcs: [correct, correct] })).toThrow(/two functions named 'correct'/);
    expect(() => rubric({ funcs: [correct], weights: [Number.NaN] })).toThrow(/finite/);
  });
});

describe('rubricGroup', () => {
  it('sums rewards and merges metrics and errors', async () => {
    const a = rubric({ funcs: [correct] });
    const b = rubric({ funcs: [{ name: 'fail', fn: () => { throw new Error('x'); } }, { name: 'half', fn: () => 0.5 }] });
    const g = rubricGroup({ rubrics: [a, b] });
    expect(g.functionNames).toEqual(['correct', 'fail', 'half']);
    expect(await g.score(input('4'))).toEqual({ reward: 1.5, metrics: { correct: 1, fail: 0, half: 0.5 }, errors: { fail: 'x' } });
  });

  it('routes groups to group rubrics and rejects clashing names', async () => {
    const grp = rubric({ funcs: [{ name: 'rank', groupFn: (xs: ScoreInput[]) => xs.map((_, i) => i) }] });
    const g = rubricGroup({ rubrics: [rubric({ funcs: [correct] }), grp] });
    expect(g.needsGroup).toBe(true);
    expect((await g.scoreGroup([input('4'), input('4')])).map((s) => s.reward)).toEqual([1, 2]);
    expect(() => rubricGroup({ rubrics: [rubric({ funcs: [correct] }), rubric({ funcs: [correct] })] })).toThrow(/appears in two rubrics/);
  });
});
