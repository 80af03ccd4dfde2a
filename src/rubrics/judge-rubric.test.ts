import { describe, expect, it } from 'vitest';
import { ConfigError, type ScoreInput } from '../core/index.js';
import { ScriptedSampler } from '../testing/index.js';
import { judgeRubric } from './judge-rubric.js';

function input(response: string, question = 'Capital of France?'): ScoreInput {
  return {
    prompt: [{ role: 'user', content: question }],
    completion: [{ role: 'assistant', content: response }],
    answer: 'Paris', info: {}, task: undefined, state: {}, turns: [], stopReason: 'terminated', parser: undefined,
  };
}

describe('judgeRubric', () => {
  it('asks the judge with the filled template and scores its verdict', async () => {
    const sampler = new ScriptedSampler({ respond: (req) => (/Response: Paris/.test(req.messages[0]!.content as string) ? 'Yes.' : 'no') });
    const judge = judgeRubric({ sampler });
    expect((await judge.score(input('Paris'))).reward).toBe(1);
    expect((await judge.score(input('Lyon'))).reward).toBe(0);
    const sent = sampler.chatRequests[0]!;
    expect(sent.messages[0]!.content).toContain('Question: Capital of France?');
    expect(sent.messages[0]!.content).toContain('Reference answer: Paris');
    expect(sent.sampling?.temperature).toBe(0);
  });

  it('caches verdicts by key, sharing one call between concurrent identical requests', async () => {
    const sampler = new ScriptedSampler({ respond: () => 'yes', latencyMs: 10 });
    const judge = judgeRubric({ sampler });
    const scores = await Promise.all([judge.score(input('Paris')), judge.score(input('Paris')), judge.score(input('Paris'))]);
    await judge.score(input('Paris'));
    await judge.score(input('Paris!'));
    expect(scores.every((s) => s.reward === 1)).toBe(true);
    expect(sampler.chatRequests).toHaveLength(2);
    expect(judge.calls).toBe(2);
    expect(judge.cacheHits).toBe(3);
  });

  it('keeps at most maxCacheSize verdicts, dropping the oldest', async () => {
    const sampler = new ScriptedSampler({ respond: () => 'yes' });
    const judge = judgeRubric({ sampler, maxCacheSize: 2 });
    for (const r of ['a', 'b', 'c', 'c', 'a']) await judge.score(input(r));
    // a, b, c asked; c cached; a was evicted by c, so asked again.
    expect(judge.calls).toBe(4);
    expect(judge.cacheHits).toBe(1);
  });

  it('cache: false asks every time', async () => {
    const sampler = new ScriptedSampler({ respond: () => 'yes' });
    const judge = judgeRubric({ sampler, cache: false });
    await judge.score(input('Paris'));
    await judge.score(input('Paris'));
    expect(sampler.chatRequests).toHaveLength(2);
  });

  it('a failing judge scores 0, records the error, and is retried next time', async () => {
    const sampler = new ScriptedSampler({ script: [new Error('judge down'), 'yes'] });
    const judge = judgeRubric({ sampler, name: 'correct' });
    const first = await judge.score(input('Paris'));
    expect(first).toEqual({ reward: 0, metrics: { correct: 0 }, errors: { correct: 'judge down' } });
    expect((await judge.score(input('Paris'))).reward).toBe(1);
  });

  it('custom template, verdict parser and weight', async () => {
    const sampler = new ScriptedSampler({ respond: () => 'score: 7/10' });
    const judge = judgeRubric({ sampler, prompt: 'Rate {response}', parseVerdict: (t) => Number(/(\d+)\/10/.exec(t)![1]) / 10, weight: 2 });
    expect((await judge.score(input('x'))).reward).toBeCloseTo(1.4);
    expect(sampler.chatRequests[0]!.messages[0]!.content).toBe('Rate x');
  });

  it('rejects a template without placeholders', () => {
    expect(() => judgeRubric({ sampler: new ScriptedSampler({ respond: () => 'yes' }), prompt: 'no slots' })).toThrow(ConfigError);
  });
});
