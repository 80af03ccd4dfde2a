import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureRun } from './fixture-run.js';
import { RunNotFoundError, RunStore } from './run-store.js';
import { ConfigError } from '../core/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keiko-runs-'));
  await writeFixtureRun({ runsDir: dir, id: 'train-a', steps: 12, groups: 2, groupSize: 4, startedAt: '2026-11-20T10:00:00.000Z' });
  await writeFixtureRun({ runsDir: dir, id: 'eval-b', kind: 'eval', groups: 5, groupSize: 4, startedAt: '2026-11-21T10:00:00.000Z' });
  await writeFixtureRun({ runsDir: dir, id: 'broken', steps: 3, corrupt: true, status: 'running', startedAt: '2026-11-19T10:00:00.000Z' });
  await mkdir(join(dir, 'not-a-run'));
  await mkdir(join(dir, 'bad-manifest'));
  await writeFile(join(dir, 'bad-manifest', 'run.json'), '{"id": 3');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('RunStore', () => {
  it('lists runs newest first and reports folders with an unreadable run.json', async () => {
    const store = new RunStore({ runsDir: dir });
    const scan = await store.listRuns();
    expect(scan.runs.map((r) => r.id)).toEqual(['eval-b', 'train-a', 'broken']);
    expect(scan.runs[1]).toMatchObject({ kind: 'train', status: 'completed', steps: 12, env: 'tool-arithmetic' });
    expect(scan.runs[1]!.bestReward).toBeGreaterThan(0);
    expect(scan.warnings).toHaveLength(1);
    expect(scan.warnings[0]).toMatch(/^bad-manifest: invalid run.json/);
  });

  it('re-reads run.json only when it changes', async () => {
    const store = new RunStore({ runsDir: dir });
    await store.listRuns();
    await writeFixtureRun({ runsDir: dir, id: 'late', kind: 'eval', groups: 1, groupSize: 2, status: 'failed', startedAt: '2026-11-22T00:00:00.000Z' });
    const scan = await store.listRuns();
    expect(scan.runs[0]).toMatchObject({ id: 'late', status: 'failed', error: 'engine died: out of memory' });
    await rm(join(dir, 'late'), { recursive: true });
    expect((await store.listRuns()).runs.map((r) => r.id)).not.toContain('late');
  });

  it('describes a run: steps with rollouts and eval sources', async () => {
    const detail = await new RunStore({ runsDir: dir }).run({ runId: 'train-a' });
    expect(detail.rolloutSteps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(detail.evalSources).toEqual(['evals/step-0', 'evals/step-10']);
    expect(detail.hasMetrics).toBe(true);
  });

  it('reads metrics and skips corrupt and torn lines with warnings', async () => {
    const store = new RunStore({ runsDir: dir });
    expect((await store.metrics({ runId: 'train-a' })).rows).toHaveLength(12);
    expect((await store.metrics({ runId: 'train-a', sinceStep: 10 })).rows.map((r) => r.step)).toEqual([10, 11]);
    const broken = await store.metrics({ runId: 'broken' });
    expect(broken.rows).toHaveLength(3);
    expect(broken.skipped).toBe(3);
    expect(broken.warnings.join('\n')).toMatch(/torn last line/);
  });

  it('pages, sorts, filters and searches rollouts', async () => {
    const store = new RunStore({ runsDir: dir });
    const page = await store.rollouts({ runId: 'train-a', source: 'rollouts/step-3', offset: 2, limit: 3 });
    expect(page.total).toBe(8);
    expect(page.items.map((i) => i.index)).toEqual([2, 3, 4]);
    const low = await store.rollouts({ runId: 'train-a', source: 'rollouts/step-3', sort: 'reward_asc', limit: 100 });
    const rewards = low.items.map((i) => i.rollout.reward);
    expect(rewards).toEqual([...rewards].sort((a, b) => a - b));
    const found = await store.rollouts({ runId: 'train-a', source: 'rollouts/step-3', search: 'CALCULATOR' });
    expect(found.total).toBeGreaterThan(0);
    for (const item of found.items) expect(JSON.stringify(item.rollout).toLowerCase()).toContain('calculator');
    const broken = await store.rollouts({ runId: 'broken', source: 'rollouts/step-0' });
    expect(broken.total).toBe(8);
    expect(broken.skipped).toBe(2);
  });

  it('validates turns only when they are asked for, and drops bad ones with a warning', async () => {
    const base = { schemaVersion: 1, sample: 0, prompt: [{ role: 'user', content: 'q' }], completion: [], stopReason: 'terminated', reward: 1, timing: { generationMs: 1, scoringMs: 1, totalMs: 2 }, usage: {} };
    const lines = [{ ...base, exampleId: 'good', turns: [{ prompt: [], completion: { role: 'assistant', content: 'a' } }] }, { ...base, exampleId: 'bad', turns: [{ nonsense: true }] }];
    await mkdir(join(dir, 'eval-b', 'evals'), { recursive: true });
    await writeFile(join(dir, 'eval-b', 'evals', 'turns.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const store = new RunStore({ runsDir: dir });
    const plain = await store.rollouts({ runId: 'eval-b', source: 'evals/turns' });
    expect(plain.total).toBe(2);
    expect(plain.items.map((i) => i.rollout.turns)).toEqual([undefined, undefined]);
    const full = await store.rollouts({ runId: 'eval-b', source: 'evals/turns', withTurns: true });
    expect(full.items[0]!.rollout.turns).toEqual([{ prompt: [], completion: { role: 'assistant', content: 'a' }, finishReason: 'stop' }]);
    expect(full.items[1]!.rollout.turns).toBeUndefined();
    expect(full.warnings.join('\n')).toMatch(/rollout bad\/0: turns skipped/);
  });

  it('computes pass@k for an eval', async () => {
    const { summary } = await new RunStore({ runsDir: dir }).evalSummary({ runId: 'eval-b', source: 'results' });
    expect(summary.examples).toHaveLength(5);
    expect(summary.ks).toEqual([1, 2, 4]);
    for (const ex of summary.examples) expect(ex.passAtK['4']).toBe(ex.passed > 0 ? 1 : 0);
    expect(summary.passAtK['1']).toBeCloseTo(summary.examples.reduce((a, e) => a + e.passed / e.n, 0) / 5, 10);
  });

  it('rejects unknown runs, unknown sources and traversal', async () => {
    const store = new RunStore({ runsDir: dir });
    await expect(store.run({ runId: 'nope' })).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(store.run({ runId: '..' })).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(store.rollouts({ runId: 'train-a', source: 'rollouts/step-99' })).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(store.rollouts({ runId: 'train-a', source: '../../etc/passwd' })).rejects.toBeInstanceOf(ConfigError);
    expect(await store.filePath({ runId: 'train-a', path: '../eval-b/run.json' })).toBeUndefined();
    expect(await store.filePath({ runId: 'train-a', path: 'config.json' })).toBe(join(dir, 'train-a', 'config.json'));
  });
});
