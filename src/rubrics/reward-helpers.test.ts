import { describe, expect, it } from 'vitest';
import type { ScoreInput } from '../core/index.js';
import { exactMatchReward, f1Reward, numericReward } from './reward-helpers.js';
import { rubric } from './rubric.js';
import { XMLParser } from './xml-parser.js';

const input = (text: string, answer: unknown, parser?: unknown): ScoreInput => ({
  prompt: [], completion: [{ role: 'assistant', content: text }], answer, info: {}, task: undefined,
  state: {}, turns: [], stopReason: 'terminated', parser,
});

describe('reward helpers', () => {
  it('compose into a rubric, reading answers through the parser when there is one', async () => {
    const parser = new XMLParser({ fields: ['answer'] });
    const r = rubric({ funcs: [exactMatchReward(), f1Reward({ weight: 0 }), numericReward({ name: 'num', weight: 0 })], parser });
    expect((await r.score(input('<answer>The Eiffel Tower</answer>', 'eiffel tower'))).metrics).toEqual({ exact_match: 1, f1: 1, num: 0 });
    expect((await r.score(input('<answer>Tower of Eiffel</answer>', ['x', 'Eiffel Tower']))).metrics['f1']).toBeCloseTo(0.8);
    expect((await r.score(input('<answer>1,000</answer>', 1000))).metrics['num']).toBe(1);
  });

  it('without a parser use the last assistant text; tolerances pass through', async () => {
    const r = rubric({ funcs: [numericReward({ relTol: 0.01 })] });
    expect((await r.score(input('about 99.5', 100))).reward).toBe(1);
    expect((await r.score(input('about 90', 100))).reward).toBe(0);
    expect((await r.score(input('anything', undefined))).reward).toBe(0);
  });
});
