import { describe, expect, it } from 'vitest';
import { ConfigError, Rng } from '../../src/core/index.js';
import { ScriptedSampler } from '../../src/testing/index.js';
import { replayDemonstration, scoreCompletion } from '../replay-demo.js';
import { feedback, loadEnvironment } from './index.js';

describe('guess-number environment', () => {
  it('demonstrate() (binary search) replayed through rollouts wins every game with reward 1', async () => {
    const env = loadEnvironment({ max: 16, count: 40 });
    expect(env.maxTurns).toBe(6);
    for (const example of env.dataset) {
      const r = await replayDemonstration({ env, example });
      expect(r.completion).toEqual(r.demo);
      expect(r.stopReason).toBe('terminated');
      expect(r.completion.at(-1)).toEqual({ role: 'user', content: 'correct' });
      expect(r.scores.reward).toBe(1);
      expect(r.scores.metrics['format']).toBe(1);
    }
  });

  it('plays by the rules: feedback, malformed guesses, out of range, running out of turns', async () => {
    const env = loadEnvironment({ max: 10, count: 5, maxTurns: 4 });
    const ex = { ...env.dataset[0]!, answer: 7 };
    const sampler = new ScriptedSampler({ script: ['<guess>5</guess>', 'seven?', '<guess>11</guess>', '<guess>9'] });
    const out = await env.rollout(ex, { sampler, sampling: {}, rng: new Rng(0) });
    expect(out.completion.filter((m) => m.role === 'user').map((m) => m.content)).toEqual([
      'higher', 'Reply <guess>N</guess>.', 'Out of range 1-10.',
    ]);
    expect(out.stopReason).toBe('truncated');
    expect(out.state['guesses']).toEqual([5, Number.NaN, 11]);
    const s = await env.rubric.score({ ...out, answer: 7, info: {}, task: undefined, parser: env.parser });
    expect(s.reward).toBe(0);
    expect(s.metrics['format']).toBe((1 + 0 + 1 + 0.5) / 4);
  });

  it('solving in fewer guesses scores higher efficiency', async () => {
    const env = loadEnvironment({ max: 16, count: 1 });
    const ex = { ...env.dataset[0]!, answer: 8 };
    const fast = await scoreCompletion(env, ex, [{ role: 'assistant', content: '<guess>8</guess>' }]);
    const slow = await scoreCompletion(env, ex, [
      { role: 'assistant', content: '<guess>3</guess>' }, { role: 'user', content: 'higher' },
      { role: 'assistant', content: '<guess>8</guess>' },
    ]);
    expect(fast.reward).toBe(1);
    expect(slow.reward).toBe(1);
    expect(fast.metrics['efficiency']).toBeGreaterThan(slow.metrics['efficiency']!);
  });

  it('a noisy teacher loses some games', async () => {
    const env = loadEnvironment({ max: 64, count: 200, demoErrorRate: 0.7 });
    const rng = new Rng(9);
    let lost = 0;
    for (const ex of env.dataset) if ((await scoreCompletion(env, ex, env.demonstrate!(ex, rng))).reward === 0) lost++;
    expect(lost).toBeGreaterThan(0);
    expect(lost).toBeLessThan(200);
  });

  it('feedback and args', () => {
    expect(feedback(3, 5, 10)).toBe('higher');
    expect(feedback(6, 5, 10)).toBe('lower');
    expect(feedback(5, 5, 10)).toBe('correct');
    expect(() => loadEnvironment({ max: 1 })).toThrow(ConfigError);
  });
});
