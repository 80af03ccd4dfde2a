import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Environment } from '../core/environment.js';
import { ConfigError } from '../core/errors.js';
import { RolloutResult } from '../core/rollout-result.js';
import { RunManifest, StepMetrics } from '../core/run-manifest.js';
import { singleTurnEnv } from '../envs/index.js';
import { rubric } from '../rubrics/index.js';
import { writeFixtureRun } from '../runs/fixture-run.js';
import { RunStore } from '../runs/run-store.js';
import { OpenAISampler } from '../samplers/openai-sampler.js';
import { ScriptedSampler, startTestServer } from '../testing/index.js';
import { parseTrainConfig, type TrainConfigInput } from './config.js';
import { FakeTrainingBackend } from './fake-training-backend.js';
import { trainGrpo, type PolicyEngine, type TrainEvent } from './trainer.js';

function makeEnv() {
  const rows = Array.from({ length: 6 }, (_, i) => ({ question: `q${i}`, answer: 'good' }));
  return singleTurnEnv({
    name: 'toy',
    dataset: rows,
    evalDataset: rows.slice(0, 3),
    rubric: rubric({ funcs: [{ name: 'match', fn: ({ completion, answer }) => (completion.at(-1)?.content === answer ? 1 : 0) }] }),
  });
}

function makeEngine(backend = new FakeTrainingBackend()) {
  // Replies depend only on the per-rollout seed, so runs are reproducible and groups have variance.
  const sampler = new ScriptedSampler({ fakeTokens: true, respond: (req) => ((req.sampling?.seed ?? 0) % 3 === 0 ? 'good' : 'bad') });
  let restarts = 0;
  const engine: PolicyEngine & { restarts: () => number } = {
    sampler,
    training: backend,
    restart: () => {
      restarts++;
      return Promise.resolve();
    },
    restarts: () => restarts,
  };
  return { engine, backend, sampler };
}

const base: TrainConfigInput = { steps: 4, promptsPerStep: 2, groupSize: 4, evalExamples: 3, checkpointEvery: 2, keepCheckpoints: null, zeroVariance: 'keep', seed: 7 };

function readJsonl<T>(path: string, parse: (x: unknown) => T): T[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => parse(JSON.parse(l)));
}

describe('trainGrpo (fake engine)', () => {
  it('writes metrics, rollouts with advantages, evals, checkpoints and a completed manifest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-train-'));
    const { engine, backend } = makeEngine();
    const result = await trainGrpo({ config: parseTrainConfig(base), env: makeEnv(), engine, runDir: dir, modelName: 'fake' });
    expect(result.steps).toBe(4);
    expect(result.before?.examples).toBe(3);
    expect(result.after).toBeDefined();
    const metrics = readJsonl(join(dir, 'metrics.jsonl'), (x) => StepMetrics.parse(x));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4]);
    for (const key of ['reward', 'rewardStd', 'reward/match', 'advantageMean', 'advantageStd', 'kl', 'clipFraction', 'entropy', 'completionLenMean', 'sampledTokensPerSecond', 'staleness', 'filteredGroups', 'samplingSeconds', 'scoringSeconds', 'trainingSeconds']) {
      expect(metrics[0]).toHaveProperty(key);
    }
    const rollouts = readJsonl(join(dir, 'rollouts', 'step-2.jsonl'), (x) => RolloutResult.parse(x));
    expect(rollouts).toHaveLength(8);
    expect(rollouts.some((r) => r.advantage !== undefined && r.advantage > 0)).toBe(true);
    expect(existsSync(join(dir, 'evals', 'before.json'))).toBe(true);
    expect(existsSync(join(dir, 'evals', 'after.json'))).toBe(true);
    expect(existsSync(join(dir, 'checkpoints', 'step-000002', 'keiko-trainer-state.json'))).toBe(true);
    expect(existsSync(join(dir, 'checkpoints', 'step-000004', 'keiko-trainer-state.json'))).toBe(true);
    // Every checkpoint has a model card; the last one quotes the eval before training and the final one.
    const fmt = (x: number | null | undefined) => x!.toFixed(3);
    const mid = readFileSync(join(dir, 'checkpoints', 'step-000002', 'README.md'), 'utf8');
    expect(mid).toContain('# keiko checkpoint: GRPO, step 2 of 4');
    expect(mid).toContain(`| before training | ${fmt(result.before?.reward)} (step 0, 3 examples`);
    expect(mid).not.toContain('after training');
    const card = readFileSync(join(dir, 'checkpoints', 'step-000004', 'README.md'), 'utf8');
    expect(card).toContain(`| after training | ${fmt(result.after?.reward)} (step 4, 3 examples`);
    expect(card).toMatch(/\| `loss` \| `grpo` \|[\s\S]*\| `groupSize` \| `4` \|/);
    expect(card).toContain('AutoModelForCausalLM.from_pretrained');
    expect(card).toContain('vllm serve path/to/this/folder');
    const manifest = RunManifest.parse(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')));
    expect(manifest.status).toBe('completed');
    expect(manifest.checkpoints.map((c) => c.step)).toEqual([2, 4]);
    expect(backend.calls.filter((c) => c.kind === 'optim')).toHaveLength(4);
    // sequences carry loss masks and sampler logprobs; the loss spec passes the config through
    const fb = backend.calls.find((c) => c.kind === 'forward')!;
    expect(fb.loss).toMatchObject({ type: 'grpo', epsLow: 0.2, epsHigh: 0.2, isCorrection: 'truncated' });
    expect(fb.loss).not.toHaveProperty('maxTokens'); // only dr_grpo has a token budget
    expect(fb.sequences![0]!.lossMask).toContain(1);
  });

  it("tells the engine what it cannot infer: each sequence's policy version, dr_grpo's token budget, topP in evals", async () => {
    const run = async (config: TrainConfigInput) => {
      const backend = new FakeTrainingBackend();
      const sampler = new ScriptedSampler({ fakeTokens: true, policyVersion: 0, respond: (req) => ((req.sampling?.seed ?? 0) % 3 === 0 ? 'good' : 'bad') });
      const engine: PolicyEngine = { sampler, training: backend };
      await trainGrpo({ config: parseTrainConfig({ ...base, steps: 1, ...config }), env: makeEnv(), engine, runDir: mkdtempSync(join(tmpdir(), 'keiko-train-')), modelName: 'fake' });
      return { forward: backend.calls.find((c) => c.kind === 'forward')!, requests: sampler.chatRequests };
    };
    const dr = await run({ loss: 'dr_grpo', maxTokens: 7, topP: 0.9 });
    // the normaliser is the configured max completion length (as TRL), not the longest sequence in the request
    expect(dr.forward.loss).toMatchObject({ type: 'dr_grpo', maxTokens: 7 });
    expect(dr.forward.sequences!.every((s) => s.policyVersion === 0)).toBe(true);
    // every request, the held-out evals' included, samples with the run's topP
    expect(dr.requests.length).toBeGreaterThan(base.promptsPerStep! * base.groupSize!);
    expect(dr.requests.every((r) => r.sampling?.topP === 0.9)).toBe(true);
    const set = await run({ loss: 'dr_grpo', maxTokens: 7, drGrpoTokens: 64 });
    expect(set.forward.loss).toMatchObject({ maxTokens: 64 });
  });

  it('writes its before, periodic and after evals where the run store (keiko view, keiko runs) reads them', async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'keiko-train-'));
    const result = await trainGrpo({ config: parseTrainConfig({ ...base, evalEvery: 2 }), env: makeEnv(), engine: makeEngine().engine, runDir: join(runsDir, 'run-1'), modelName: 'fake' });
    const store = new RunStore({ runsDir });
    const detail = await store.run({ runId: 'run-1' });
    expect(detail.evalSources).toEqual(['evals/before', 'evals/step-2', 'evals/after']);
    for (const source of detail.evalSources) {
      const { summary, skipped } = await store.evalSummary({ runId: 'run-1', source });
      expect(skipped).toBe(0);
      expect(summary.examples).toHaveLength(3);
    }
    const before = await store.allRollouts({ runId: 'run-1', source: 'evals/before' });
    expect(before.rollouts.reduce((a, r) => a + r.reward, 0) / before.rollouts.length).toBeCloseTo(result.before!.reward, 10);
    const [row] = (await store.listRuns()).runs;
    expect(row).toMatchObject({ id: 'run-1', kind: 'train', evalReward: result.after!.reward });
  });

  it('writes the layout the test fixture writes (so run-store and dashboard tests see real runs)', async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'keiko-train-'));
    await trainGrpo({ config: parseTrainConfig({ ...base, evalEvery: 2 }), env: makeEnv(), engine: makeEngine().engine, runDir: join(runsDir, 'real'), modelName: 'fake' });
    await writeFixtureRun({ runsDir, id: 'fixture', steps: 5, evalEvery: 2 });
    // Every file name, with step numbers and eval labels folded, outside the checkpoints' contents.
    const shape = (id: string) =>
      new Set(
        (readdirSync(join(runsDir, id), { recursive: true }) as string[])
          .filter((p) => !p.startsWith('checkpoints/'))
          .map((p) => p.replace(/\d+/g, 'N').replace(/^evals\/(before|after)\./, 'evals/step-N.')),
      );
    expect(shape('fixture')).toEqual(shape('real'));
    const real = RunManifest.parse(JSON.parse(readFileSync(join(runsDir, 'real', 'run.json'), 'utf8')));
    const fixture = RunManifest.parse(JSON.parse(readFileSync(join(runsDir, 'fixture', 'run.json'), 'utf8')));
    expect(Object.keys(fixture.summary).sort()).toEqual(Object.keys(real.summary).sort());
    expect(fixture.checkpoints.at(-1)!.path).toMatch(/^checkpoints\/step-\d{6}$/);
    expect(real.checkpoints.at(-1)!.path).toMatch(/^checkpoints\/step-\d{6}$/);
  });

  it('takes the optimizer step inside forward/backward when the backend can (one round trip), and the same steps otherwise', async () => {
    const runs = await Promise.all(
      [true, false].map(async (fuse) => {
        const backend = new FakeTrainingBackend();
        backend.fuseOptim = fuse;
        backend.nonfiniteAt.add(2);
        const { engine } = makeEngine(backend);
        const dir = mkdtempSync(join(tmpdir(), 'keiko-train-'));
        await trainGrpo({ config: parseTrainConfig(base), env: makeEnv(), engine, runDir: dir, modelName: 'fake', evalBeforeAfter: false });
        const metrics = readJsonl(join(dir, 'metrics.jsonl'), (x) => StepMetrics.parse(x));
        return { optim: backend.calls.filter((c) => c.kind === 'optim'), metrics };
      }),
    );
    const [fused, split] = runs as [(typeof runs)[number], (typeof runs)[number]];
    expect(fused.optim.map((c) => [c.step, c.lr, c.fused])).toEqual(split.optim.map((c) => [c.step, c.lr, true]));
    expect(split.optim.every((c) => c.fused === false)).toBe(true);
    expect(fused.optim).toHaveLength(3); // step 2's loss was non-finite: nothing applied
    expect(fused.metrics.map((m) => m['skipped'])).toEqual(split.metrics.map((m) => m['skipped']));
    expect(fused.metrics.map((m) => m['gradNorm'])).toEqual(split.metrics.map((m) => m['gradNorm']));
  });

  it('names each group where it is scheduled (step:index) and sends the id with its training sequences', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-train-'));
    const { engine, backend } = makeEngine();
    await trainGrpo({ config: parseTrainConfig({ ...base, steps: 2 }), env: makeEnv(), engine, runDir: dir, modelName: 'fake', evalBeforeAfter: false });
    const forwards = backend.calls.filter((c) => c.kind === 'forward');
    expect(forwards.map((c) => [...new Set(c.sequences!.map((s) => s.groupId))])).toEqual([
      ['1:0', '1:1'],
      ['2:0', '2:1'],
    ]);
    const rollouts = readJsonl(join(dir, 'rollouts', 'step-2.jsonl'), (x) => RolloutResult.parse(x));
    expect(rollouts.map((r) => r.groupId)).toEqual([...Array(4).fill('2:0'), ...Array(4).fill('2:1')]);
  });

  it('refuses to start a new run in a folder that already holds one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-train-'));
    const config = parseTrainConfig({ ...base, steps: 1 });
    await trainGrpo({ config, env: makeEnv(), engine: makeEngine().engine, runDir: dir, modelName: 'fake', evalBeforeAfter: false });
    await expect(trainGrpo({ config, env: makeEnv(), engine: makeEngine().engine, runDir: dir, modelName: 'fake', evalBeforeAfter: false })).rejects.toThrow(/already holds a run; resume it/);
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('stops with the error when every rollout of a step fails with a configuration error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-train-'));
    const env = makeEnv();
    const broken: Environment = {
      name: 'broken',
      dataset: env.dataset,
      rubric: env.rubric,
      rollout: () => Promise.reject(new ConfigError("agentEnv 'a': no HTTP base URL for the proxy")),
    };
    const { engine, backend } = makeEngine();
    await expect(
      trainGrpo({ config: parseTrainConfig({ ...base, steps: 3 }), env: broken, engine, runDir: dir, modelName: 'fake', evalBeforeAfter: false }),
    ).rejects.toThrow(/every rollout of step 1 failed: agentEnv 'a': no HTTP base URL/);
    expect(backend.step).toBe(0);
  });

  // A non-finite loss is never applied; a finite loss whose gradient is not finite is skipped by the
  // optimizer step. Both skip the step, each under its own metric.
  it.each([
    { what: 'a step whose loss is not finite', at: 'nonfiniteAt', row: [2, 1, 1, 0] },
    { what: 'a finite loss with a non-finite gradient (nonfiniteGrad, not nonfiniteLoss)', at: 'nonfiniteGradAt', row: [2, 1, 0, 1] },
  ] as const)('skips and reports $what, never applying it', async ({ at, row }) => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-train-'));
    const backend = new FakeTrainingBackend();
    backend[at].add(2);
    const { engine } = makeEngine(backend);
    await trainGrpo({ config: parseTrainConfig({ ...base, steps: 3 }), env: makeEnv(), engine, runDir: dir, modelName: 'fake', evalBeforeAfter: false });
    const metrics = readJsonl(join(dir, 'metrics.jsonl'), (x) => StepMetrics.parse(x));
    expect(metrics.map((m) => [m.step, m['skipped'], m['nonfiniteLoss'], m['nonfiniteGrad']])).toEqual([[1, 0, 0, 0], row, [3, 0, 0, 0]]);
    expect(backend.step).toBe(2); // two optimizer steps applied, the non-finite one was not
  });

  it('resumes after an interruption with no step repeated or skipped and the same data order', async () => {
    const config = parseTrainConfig({ ...base, steps: 6, checkpointEvery: 1 });
    const reference = mkdtempSync(join(tmpdir(), 'keiko-train-'));
    await trainGrpo({ config, env: makeEnv(), engine: makeEngine().engine, runDir: reference, modelName: 'fake', evalBeforeAfter: false });

    const dir = mkdtempSync(join(tmpdir(), 'keiko-train-'));
    const controller = new AbortController();
    const first = makeEngine();
    const onEvent = (e: TrainEvent) => {
      if (e.kind === 'step' && e.step === 3) controller.abort();
    };
    const partial = await trainGrpo({ config, env: makeEnv(), engine: first.engine, runDir: dir, modelName: 'fake', evalBeforeAfter: false, onEvent, signal: controller.signal });
    expect(partial.interrupted).toBe(true);
    expect(partial.steps).toBe(3);
    expect(RunManifest.parse(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))).status).toBe('interrupted');

    // a crash mid-save leaves the engine's temporary checkpoint folder behind: resume removes it
    const leftover = join(dir, 'checkpoints', '.step-4.tmp-0a1b2c3d');
    mkdirSync(leftover, { recursive: true });
    writeFileSync(join(leftover, 'model.safetensors'), 'half');
    const second = makeEngine();
    const resumed = await trainGrpo({ config, env: makeEnv(), engine: second.engine, runDir: dir, modelName: 'fake', evalBeforeAfter: false, resume: true });
    expect(resumed.steps).toBe(6);
    expect(existsSync(leftover)).toBe(false);
    expect(second.backend.calls[0]).toMatchObject({ kind: 'load', step: 3 });
    const metrics = readJsonl(join(dir, 'metrics.jsonl'), (x) => StepMetrics.parse(x));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(metrics.map((m) => m.time)).toEqual([...metrics.map((m) => m.time)].sort((a, b) => a - b));
    // the prompts of every step match an uninterrupted run with the same seed
    const ids = (d: string, s: number) => readJsonl(join(d, 'rollouts', `step-${s}.jsonl`), (x) => RolloutResult.parse(x)).map((r) => `${r.exampleId}:${r.completion[0]?.content}`);
    for (let s = 1; s <= 6; s++) expect(ids(dir, s)).toEqual(ids(reference, s));
  });

  it('restarts a dead engine and continues from the last checkpoint, reusing the sampled batch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-train-'));
    const backend = new FakeTrainingBackend();
    backend.dieAt.add(3);
    const { engine } = makeEngine(backend);
    const events: TrainEvent[] = [];
    const result = await trainGrpo({ config: parseTrainConfig({ ...base, steps: 4, checkpointEvery: 1 }), env: makeEnv(), engine, runDir: dir, modelName: 'fake', evalBeforeAfter: false, onEvent: (e) => events.push(e) });
    expect(result.restarts).toBe(1);
    expect(engine.restarts()).toBe(1);
    expect(events.find((e) => e.kind === 'restart')).toMatchObject({ step: 3, resumedFrom: 2 });
    const metrics = readJsonl(join(dir, 'metrics.jsonl'), (x) => StepMetrics.parse(x));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4]);
    expect(backend.step).toBe(4);
  });

  it('async mode trains on batches at most maxStaleness steps old and reports staleness', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-train-'));
    const { engine } = makeEngine();
    await trainGrpo({ config: parseTrainConfig({ ...base, steps: 4, async: true, maxStaleness: 1 }), env: makeEnv(), engine, runDir: dir, modelName: 'fake', evalBeforeAfter: false });
    const metrics = readJsonl(join(dir, 'metrics.jsonl'), (x) => StepMetrics.parse(x));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4]);
    expect(metrics.map((m) => m['staleness'])).toEqual([0, 1, 1, 1]);
  });

  it('records rollouts whose sampler calls fail (real HTTP server with injected 500s) and trains on the rest', async () => {
    const server = await startTestServer({ rule: (_req, index) => (index % 3 === 0 ? 'good' : 'bad'), faults: { errorRate: 0.2, seed: 3 } });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'keiko-train-'));
      const sampler = new OpenAISampler({ model: 'test-model', baseUrl: server.baseUrl, retry: { maxRetries: 0 } });
      const backend = new FakeTrainingBackend();
      const result = await trainGrpo({ config: parseTrainConfig({ ...base, steps: 3, coalesce: false }), env: makeEnv(), engine: { sampler, training: backend }, runDir: dir, modelName: 'fake', evalBeforeAfter: false });
      expect(result.steps).toBe(3);
      const metrics = readJsonl(join(dir, 'metrics.jsonl'), (x) => StepMetrics.parse(x));
      const errored = metrics.reduce((a, m) => a + (m['erroredRollouts'] as number), 0);
      expect(errored).toBeGreaterThan(0);
      expect(errored).toBeLessThan(24);
      const rollouts = readJsonl(join(dir, 'rollouts', 'step-1.jsonl'), (x) => RolloutResult.parse(x));
      expect(rollouts).toHaveLength(8);
      for (const r of rollouts.filter((x) => x.stopReason === 'error')) expect(r.error?.code).toBe('sampler_error');
      // trained sequences never include errored rollouts
      const trained = backend.calls.filter((c) => c.kind === 'forward').reduce((a, c) => a + c.sequences!.length, 0);
      expect(trained).toBeLessThanOrEqual(24 - errored);
    } finally {
      await server.close();
    }
  });
});
