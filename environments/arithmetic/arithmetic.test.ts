import { describe, expect, it } from 'vitest';
import { ConfigError, Rng, type Environment, type ScoreInput } from '../../src/core/index.js';
import { ScriptedSampler } from '../../src/testing/index.js';
import { builtinEnvironments, loadBuiltinEnvironment } from '../index.js';
import { loadEnvironment } from './index.js';

async function rollAndScore(env: Environment, reply: string) {
  const example = env.dataset[0]!;
  const sampler = new ScriptedSampler({ script: [reply] });
  const out = await env.rollout(example, { sampler, sampling: {}, rng: new Rng(1) });
  const input: ScoreInput = { ...out, answer: example.answer, info: example.info, task: example.task, parser: env.parser };
  return { out, scores: await env.rubric.score(input), sampler };
}

describe('arithmetic environment', () => {
  it('builds short prompts with small numbers from args', () => {
    const env = loadEnvironment({ digits: 1, ops: '+', count: 50, evalCount: 5, seed: 3 });
    expect(env.dataset).toHaveLength(50);
    expect(env.evalDataset).toHaveLength(5);
    for (const ex of env.dataset) {
      const q = ex.prompt.at(-1)!.content!;
      expect(q).toMatch(/^\d\+\d$/);
      const [a, b] = q.split('+').map(Number);
      expect(ex.answer).toBe(a! + b!);
    }
    expect(env.dataset[0]!.prompt[0]).toEqual({ role: 'system', content: 'Reply <answer>N</answer>.' });
  });

  it('is reproducible from its seed and differs across seeds', () => {
    const q = (seed: number) => loadEnvironment({ seed, count: 20 }).dataset.map((e) => e.prompt.at(-1)!.content);
    expect(q(7)).toEqual(q(7));
    expect(q(7)).not.toEqual(q(8));
  });

  it('subtraction stays non-negative unless negative=true', () => {
    const env = loadEnvironment({ ops: '-', count: 200 });
    expect(env.dataset.every((e) => (e.answer as number) >= 0)).toBe(true);
    const neg = loadEnvironment({ ops: '-', count: 200, negative: true });
    expect(neg.dataset.some((e) => (e.answer as number) < 0)).toBe(true);
  });

  it('demonstrate() is a correct solver: every demonstration scores reward 1', async () => {
    const env = loadEnvironment({ digits: 2, ops: '+-*', count: 100 });
    const rng = new Rng(0);
    for (const example of env.dataset) {
      const completion = env.demonstrate!(example, rng);
      const scores = await env.rubric.score({
        prompt: example.prompt, completion, answer: example.answer, info: example.info, task: undefined,
        state: {}, turns: [], stopReason: 'terminated', parser: env.parser,
      });
      expect(scores.reward).toBe(1);
    }
  });

  it('demoErrorRate makes a noisy teacher with roughly that error rate', async () => {
    const env = loadEnvironment({ count: 1000, demoErrorRate: 0.3 });
    const rng = new Rng(5);
    let wrong = 0;
    for (const example of env.dataset) {
      const completion = env.demonstrate!(example, rng);
      const s = await env.rubric.score({
        prompt: example.prompt, completion, answer: example.answer, info: {}, task: undefined,
        state: {}, turns: [], stopReason: 'terminated', parser: env.parser,
      });
      if (s.reward === 0) wrong++;
    }
    expect(wrong).toBeGreaterThan(230);
    expect(wrong).toBeLessThan(370);
  });

  it('a rollout through a sampler scores 1 for a right answer and 0 for a wrong or malformed one', async () => {
    const env = loadEnvironment({ count: 5 });
    const right = `<answer>${env.dataset[0]!.answer as number}</answer>`;
    const ok = await rollAndScore(env, right);
    expect(ok.out.stopReason).toBe('terminated');
    expect(ok.scores.reward).toBe(1);
    expect(ok.scores.metrics['format']).toBe(1);
    const bad = await rollAndScore(env, '<answer>-12345</answer>');
    expect(bad.scores.reward).toBe(0);
    const broken = await rollAndScore(env, `<answer ${String(env.dataset[0]!.answer)}`);
    expect(broken.scores.reward).toBe(0);
    expect(broken.out.error).toBeUndefined();
  });

  it('formatWeight adds a format reward', async () => {
    const env = loadEnvironment({ count: 5, formatWeight: 0.5 });
    const right = `<answer>${env.dataset[0]!.answer as number}</answer>`;
    expect((await rollAndScore(env, right)).scores.reward).toBe(1.5);
  });

  it('rejects unknown or invalid args listing the valid ones', () => {
    expect(() => loadEnvironment({ digitz: 2 })).toThrow(ConfigError);
    expect(() => loadEnvironment({ digitz: 2 })).toThrow(/valid args: digits, ops/);
    expect(() => loadEnvironment({ ops: '/' })).toThrow(/ops/);
  });
});

describe('builtin registry', () => {
  it('loads arithmetic by name and lists names on an unknown one', async () => {
    expect(Object.keys(builtinEnvironments)).toEqual(['arithmetic', 'calculator', 'column-addition', 'guess-number']);
    const env = await loadBuiltinEnvironment('arithmetic', { count: 3 });
    expect(env.name).toBe('arithmetic');
    await expect(loadBuiltinEnvironment('nope', {})).rejects.toThrow(/unknown environment 'nope'; available: arithmetic, calculator, column-addition, guess-number/);
    for (const name of Object.keys(builtinEnvironments)) expect((await loadBuiltinEnvironment(name, { count: 2 })).name).toBe(name);
  });
});
