import { describe, expect, it } from 'vitest';
import { loadBuiltinEnvironment } from '../../environments/index.js';
import { evaluateTeacher } from './evaluate.js';

describe('evaluateTeacher', () => {
  it("scores the environment's demonstrations with its rubric: a careful teacher 1, a careless one its error rate", async () => {
    const careful = await loadBuiltinEnvironment('arithmetic', { digits: 1, demoErrorRate: 0 });
    const perfect = await evaluateTeacher({ env: careful, examples: careful.evalDataset!, groupSize: 2, seed: 1 });
    expect(perfect).toMatchObject({ examples: careful.evalDataset!.length, samplesPerExample: 2, reward: 1 });

    const env = await loadBuiltinEnvironment('column-addition', { evalSplit: 'test', carelessRate: 0.9 });
    const examples = env.evalDataset!;
    const report = await evaluateTeacher({ env, examples, groupSize: 4, seed: 1 });
    // right on every task without a units carry, and on ~10% of those with one
    const slips = examples.filter((e) => e.info['slips']).length / examples.length;
    expect(report!.reward).toBeGreaterThan(1 - slips - 0.05);
    expect(report!.reward).toBeLessThan(1 - slips * 0.9 + 0.05);
    expect(report!.metrics['correct']).toBe(report!.reward);
    // seeded: the same figure every time
    expect((await evaluateTeacher({ env, examples, groupSize: 4, seed: 1 }))!.reward).toBe(report!.reward);
  });

  it('is undefined for an environment without demonstrate()', async () => {
    const env = await loadBuiltinEnvironment('arithmetic', { digits: 1 });
    expect(await evaluateTeacher({ env: { ...env, demonstrate: undefined } as typeof env, examples: env.evalDataset! })).toBeUndefined();
  });
});
