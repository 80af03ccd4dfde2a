import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, Rng, type ChatMessage, type Environment, type Example } from '../../src/core/index.js';
import { answerKind, carelessSum, loadEnvironment, readReversedSum, writeColumnSums, writeReversedSum } from './env.js';
import { curvesSvg } from './render-curves.js';
import { parseRunArgs } from '../flagship-run.js';
import { imitationTable, resultsTable, TestResults } from './summarize.js';

async function score(env: Environment, example: Example, completion: ChatMessage[]): Promise<number> {
  const s = await env.rubric.score({ prompt: example.prompt, completion, answer: example.answer, info: example.info, task: undefined, state: {}, turns: [], stopReason: 'terminated', parser: env.parser });
  return s.reward;
}

describe('column-addition environment', () => {
  it('writes column sums units first and reads totals units first', () => {
    expect(writeColumnSums(347, 582, 3)).toBe('091208');
    expect(writeReversedSum(929, 4)).toBe('9290');
    expect(readReversedSum('9290', 4)).toBe(929);
    expect(readReversedSum('9 2 9 0', 4)).toBe(929);
    expect(readReversedSum('92900', 4)).toBeUndefined();
    expect(readReversedSum('92a0', 4)).toBeUndefined();
    // every-carry: 7+2=9, 4+8=12 → 2, 3+5=8, the carry is lost
    expect(carelessSum(347, 582, 3, 'every-carry')).toBe(829);
    expect(carelessSum(347, 582, 3, 'units-carry')).toBe(929); // no units carry to forget
    // units-carry: 7+5=12 → 2, the carry into the tens is lost: 4+8=12 → 2 carry 1, 3+5+1=9
    expect(carelessSum(347, 585, 3, 'units-carry')).toBe(922);
    expect(carelessSum(347, 585, 3, 'every-carry')).toBe(822);
  });

  it('tells the exact total, the careless total and a mix of the two apart', () => {
    // 358 + 467 = 825 (two carries); forgetting both gives 715; keeping one of them gives 725 or 815.
    expect(answerKind('5280', 358, 467, 3, 'every-carry')).toBe('correct');
    expect(answerKind('5170', 358, 467, 3, 'every-carry')).toBe('careless');
    expect(answerKind('5270', 358, 467, 3, 'every-carry')).toBe('other');
    expect(answerKind('oops', 358, 467, 3, 'every-carry')).toBe('other');
    // units-carry: forgetting only the units carry gives 815
    expect(answerKind('5180', 358, 467, 3)).toBe('careless');
    expect(answerKind('5170', 358, 467, 3)).toBe('other');
  });

  it('keeps train, validation and test prompts disjoint', () => {
    const question = (e: Example) => e.prompt.at(-1)!.content;
    const val = loadEnvironment({ count: 3000 });
    const test = loadEnvironment({ count: 3000, evalSplit: 'test' });
    const train = new Set(val.dataset.map(question));
    expect(val.evalDataset!.some((e) => train.has(question(e)))).toBe(false);
    expect(test.evalDataset!.some((e) => train.has(question(e)))).toBe(false);
    const held = new Set(val.evalDataset!.map(question));
    expect(test.evalDataset!.some((e) => held.has(question(e)))).toBe(false);
  });

  it.each(['units-carry', 'every-carry'] as const)('rewards the exact total only; the %s teacher is right where it cannot slip and about 60 percent overall', async (slip) => {
    const carelessRate = slip === 'units-carry' ? 0.9 : 0.5;
    const env = loadEnvironment({ evalSplit: 'test', evalCount: 400, slip, carelessRate });
    const examples = env.evalDataset!;
    const ex = examples.find((e) => e.info['slips'] === true)!;
    const { a, b } = ex.info as { a: number; b: number };
    expect(await score(env, ex, [{ role: 'assistant', content: writeReversedSum(a + b, 4) }])).toBe(1);
    expect(await score(env, ex, [{ role: 'assistant', content: writeReversedSum(carelessSum(a, b, 3, slip), 4) }])).toBe(0);
    expect(await score(env, ex, [{ role: 'assistant', content: 'no idea' }])).toBe(0);
    const rng = new Rng(0);
    let right = 0;
    let slipped = 0;
    for (const e of examples) {
      const r = await score(env, e, env.demonstrate!(e, rng));
      if (e.info['slips'] === false) expect(r).toBe(1);
      else slipped += 1 - r;
      right += r;
    }
    const slipTasks = examples.filter((e) => e.info['slips'] === true).length;
    expect(slipped / slipTasks).toBeGreaterThan(carelessRate - 0.1);
    expect(slipped / slipTasks).toBeLessThan(carelessRate + 0.1);
    expect(right / examples.length).toBeGreaterThan(0.5);
    expect(right / examples.length).toBeLessThan(0.7);
  });

  it('rejects unknown args with the list of valid ones', () => {
    expect(() => loadEnvironment({ digitz: 3 })).toThrow(ConfigError);
    expect(() => loadEnvironment({ digitz: 3 })).toThrow(/valid args: digits/);
  });
});

describe('run.ts arguments', () => {
  it('splits --split from the config overrides and rejects an unknown split', () => {
    expect(parseRunArgs(['--seed=1', '--split=validation', '--steps=0'])).toEqual({ split: 'validation', overrides: ['--seed=1', '--steps=0'] });
    expect(parseRunArgs([]).split).toBe('test');
    expect(() => parseRunArgs(['--split=train'])).toThrow(/'validation' or 'test'/);
  });
});

describe('curves and results table', () => {
  it('draws SFT loss, train reward and validation accuracy from a run folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-curves-'));
    mkdirSync(join(dir, 'sft'));
    mkdirSync(join(dir, 'evals'));
    writeFileSync(join(dir, 'sft', 'metrics.jsonl'), [1, 2].map((step) => JSON.stringify({ schemaVersion: 1, step, time: step, loss: 3 - step }) + '\n').join(''));
    writeFileSync(join(dir, 'metrics.jsonl'), [1, 2, 3].map((step) => JSON.stringify({ schemaVersion: 1, step, time: step, reward: step / 4 }) + '\n').join('') + '{"torn');
    writeFileSync(join(dir, 'evals', 'before.json'), JSON.stringify({ reward: 0.4, step: 0 }));
    writeFileSync(join(dir, 'evals', 'after.json'), JSON.stringify({ reward: 0.9, step: 3 }));
    const svg = curvesSvg({ runDir: dir, title: 'demo', teacher: 0.6, test: { start: 0.45, end: 0.95 } });
    expect(svg).toContain('SFT on the teacher: loss');
    expect(svg).toContain('teacher on test (60%)');
    expect(svg.match(/<path /g)).toHaveLength(4); // loss, reward, validation, teacher (test points are markers)
  });

  it('tabulates test results and rejects a malformed file', () => {
    const scores = { greedy: 0.9, sampled: 0.8, greedyWithCarry: 0.85, greedyNoCarry: 1 };
    const results = TestResults.parse({ schemaVersion: 1, seed: 0, teacher: 0.6, testTasks: 200, start: { model: 'sft', ...scores, greedy: 0.4 }, grpo: scores, trainSeconds: 700, sftSeconds: 300, config: { sftSteps: 600, steps: 100, groupSize: 8, loss: 'grpo', advantageScale: 'group' } });
    const table = resultsTable([{ name: 'run', results }]);
    expect(table).toContain('| run | 0 | 600 | 100 | GRPO | 8 | 60.0% | 40.0% |');
    const kinds = { correct: 0.3, careless: 0.45, other: 0.25 };
    const withKinds = TestResults.parse({ ...results, start: { ...results.start, sampledCarryKinds: kinds } });
    expect(imitationTable([{ name: 'run', results: withKinds }])).toContain('| run | 0 | 60.0% | 80.0% | 40.0% | 30.0% | 45.0% | 25.0% | – | – | – |');
    expect(TestResults.safeParse({ schemaVersion: 1, seed: 0 }).success).toBe(false);
  });
});
