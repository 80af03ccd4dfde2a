// vLLM servers as the sampler fleet, with the real vLLM CPU build (installed by `keiko vllm setup`,
// which scripts/test.sh runs) and a real engine. Two servers are started once and shared by every
// test here (a vLLM start takes 1-2 minutes on 2 cores). Skipped where vLLM is not installed.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBuiltinEnvironment } from '../environments/index.js';
import { RolloutResult } from '../src/core/rollout-result.js';
import { StepMetrics } from '../src/core/run-manifest.js';
import type { Sampler } from '../src/core/sampler.js';
import { EngineClient } from '../src/engine/client.js';
import { weightVersion } from '../src/engine/vllm/admin.js';
import { VllmFleet, type FleetEvent } from '../src/engine/vllm/fleet.js';
import { defaultVllmVenv } from '../src/engine/vllm/server.js';
import { parseTrainConfig } from '../src/train/config.js';
import { environmentCorpus, runTrainJob, vllmPolicy, type TrainJobResult } from '../src/train/train-job.js';
import { trainGrpo } from '../src/train/trainer.js';

const ROOT = resolve(import.meta.dirname, '..');
const hasEngine = existsSync(join(ROOT, 'engine', '.venv', 'bin', 'python'));
const hasVllm = existsSync(join(defaultVllmVenv(), 'bin', 'python'));

// CPU settings for the tests: no torch.compile warm-up (minutes on 2 busy cores), no core pinning
// (two servers would pin the same core), float32 so logprobs equal the engine's.
const SERVER = { dtype: 'float32', extraArgs: ['--enforce-eager'], env: { VLLM_CPU_OMP_THREADS_BIND: 'nobind', OMP_NUM_THREADS: '1' } };

function metricsOf(dir: string): StepMetrics[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => StepMetrics.parse(JSON.parse(l)));
}

function rolloutsOf(dir: string, step: number): RolloutResult[] {
  return readFileSync(join(dir, 'rollouts', `step-${step}.jsonl`), 'utf8').trim().split('\n').map((l) => RolloutResult.parse(JSON.parse(l)));
}

/** Greedy completion of `prompt` ids: token ids and their logprobs (vLLM and the engine speak the same protocol). */
async function greedy(baseUrl: string, model: string, prompt: number[]): Promise<{ ids: number[]; logprobs: number[] }> {
  const res = await fetch(`${baseUrl}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, prompt, max_tokens: 8, temperature: 0, logprobs: 0, return_token_ids: true, ignore_eos: true }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { choices: { token_ids: number[]; logprobs: { token_logprobs: number[] } }[] };
  return { ids: body.choices[0]!.token_ids, logprobs: body.choices[0]!.logprobs.token_logprobs };
}

describe.skipIf(!hasEngine || !hasVllm).sequential('vLLM sampler fleet (real vLLM CPU build)', () => {
  const root = mkdtempSync(join(tmpdir(), 'keiko-vllm-'));
  const model = join(root, 'model');
  const events: FleetEvent[] = [];
  let fleet: VllmFleet;
  let job: TrainJobResult;
  let engine: EngineClient | undefined; // the run's engine after 3 steps, shared by the last two tests

  beforeAll(async () => {
    const arithmetic = await loadBuiltinEnvironment('arithmetic', { digits: 1 });
    const guess = await loadBuiltinEnvironment('guess-number', { max: 8 });
    const corpus = join(root, 'corpus.txt');
    writeFileSync(corpus, environmentCorpus({ env: arithmetic, examples: 300, seed: 0 }) + environmentCorpus({ env: guess, examples: 100, seed: 0 }));
    // head size 128 / 4 = 32: vLLM's CPU attention refuses smaller heads
    await EngineClient.createModel({ out: model, corpus: [corpus], hidden: 128, heads: 4, layers: 2, vocabSize: 320, seed: 0 });
    fleet = await VllmFleet.start({ servers: 2, server: { model, ...SERVER, seed: 0 }, logDir: join(root, 'vllm-logs'), initialVersion: 0, onEvent: (e) => events.push(e) });
  }, 900_000);

  afterAll(async () => {
    await engine?.stop();
    await fleet?.stop();
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('keiko train --sampler vllm with 2 servers: the weights are synced after every step, versions monotonic, staleness as configured', async () => {
    const config = parseTrainConfig({
      env: 'arithmetic',
      envArgs: { digits: 1, count: 16, evalCount: 4 },
      model,
      sftSteps: 0,
      sampler: 'vllm',
      vllm: { urls: fleet.urls, dtype: 'float32' },
      steps: 3,
      promptsPerStep: 4,
      groupSize: 4,
      maxTokens: 6,
      lr: 2e-2,
      zeroVariance: 'keep',
      maxStaleness: 0,
      evalExamples: 4,
      evalGroupSize: 1,
      checkpointEvery: 1,
    });
    const env = await loadBuiltinEnvironment(config.env, config.envArgs);
    job = await runTrainJob({ config, env, runDir: join(root, 'run') });
    const metrics = metricsOf(job.runDir);
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3]);
    // after step s the servers hold version s; each step's batch was sampled by version s - 1
    expect(metrics.map((m) => m.samplerVersion)).toEqual([1, 2, 3]);
    expect(metrics.map((m) => m.staleness)).toEqual([0, 0, 0]);
    expect(metrics.every((m) => (m.syncSeconds ?? 0) > 0 && m.syncFailedServers === 0)).toBe(true);
    for (const step of [1, 2, 3]) {
      const rollouts = rolloutsOf(job.runDir, step);
      expect(rollouts.length).toBe(16);
      for (const r of rollouts) {
        expect(r.stopReason).not.toBe('error');
        for (const t of r.turns) {
          expect(t.policyVersion).toBe(step - 1);
          expect(t.tokens?.completionIds.length).toBeGreaterThan(0);
          expect(t.tokens?.completionLogprobs.length).toBe(t.tokens?.completionIds.length);
        }
      }
    }
    // the servers report the version keiko synced
    for (const url of fleet.urls) expect(await weightVersion(url)).toBe('3');
    expect(existsSync(join(job.runDir, 'sync', 'model.safetensors'))).toBe(true);
  }, 900_000);

  it("after 3 training steps, vLLM's greedy tokens and logprobs of a fixed prompt equal the engine's (<= 1e-4)", async () => {
    engine = await EngineClient.spawn({ model: join(job.runDir, 'checkpoints', 'step-000003'), threads: 1, checkpointRoots: [root], restart: false, startupTimeoutMs: 600_000, env: { OMP_NUM_THREADS: '1' } });
    {
      expect((await engine.info()).step).toBe(3);
      const prompt = [5, 17, 42, 7, 99, 3, 12];
      const ours = await greedy(engine.url, 'keiko-engine', prompt);
      for (const url of fleet.urls) {
        const theirs = await greedy(url, 'keiko-policy', prompt);
        expect(theirs.ids).toEqual(ours.ids);
        const diffs = theirs.logprobs.map((lp, i) => Math.abs(lp - ours.logprobs[i]!));
        expect(Math.max(...diffs)).toBeLessThanOrEqual(1e-4);
      }
    }
  }, 900_000);

  it('a server killed mid-step is restarted with the current weights and its requests are retried (async, multi-turn)', async () => {
    if (!engine) throw new Error('needs the engine of the previous test');
    {
      const config = parseTrainConfig({
        env: 'guess-number',
        envArgs: { max: 8, maxTurns: 3, count: 16, evalCount: 0 },
        model,
        sampler: 'vllm',
        steps: 5,
        promptsPerStep: 4,
        groupSize: 3,
        maxTokens: 6,
        maxTurns: 3,
        zeroVariance: 'keep',
        maxStaleness: 1,
        async: true,
        checkpointEvery: null,
        evalExamples: 1,
      });
      const env = await loadBuiltinEnvironment(config.env, config.envArgs);
      const policy = vllmPolicy({ config, engine, fleet, syncDir: join(root, 'sync-2') });
      const victim = fleet.status[0]!.pid!;
      let calls = 0;
      const killing: Sampler = {
        model: policy.sampler.model,
        chat: (request, options) => {
          calls++;
          if (calls === 10) process.kill(-victim, 'SIGKILL'); // step 2's sampling is under way
          return policy.sampler.chat(request, options);
        },
      };
      const result = await trainGrpo({ config, env, engine: { ...policy, sampler: killing }, runDir: join(root, 'killed'), modelName: 'model', evalBeforeAfter: false });
      expect(result.steps).toBe(5);
      // seen either as a death (exit event first) or as an unhealthy server after a failed request: out of rotation, restarted
      expect(events.some((e) => (e.kind === 'died' || e.kind === 'out') && e.member === 0)).toBe(true);
      const metrics = metricsOf(join(root, 'killed'));
      expect(metrics.map((m) => m.erroredRollouts)).toEqual([0, 0, 0, 0, 0]); // the dead server's requests went to the other one
      expect(metrics.every((m) => m.staleness! <= 1)).toBe(true);
      const versions = metrics.map((m) => m.samplerVersion!);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(versions.at(-1)).toBe(8); // 3 + 5 steps
      // multi-turn trajectories sampled by vLLM are trained on (vLLM's token ids kept). Zero prefix
      // breaks is NOT reached yet: measured [2, 0, 0, 1, 0] breaks over the 5 steps (see the it.todo below)
      expect(metrics.every((m) => Number.isFinite(m.prefixBreaks))).toBe(true);
      const multiTurn = [1, 2, 3, 4, 5].flatMap((s) => rolloutsOf(join(root, 'killed'), s)).filter((r) => r.turns.length > 1);
      expect(multiTurn.length).toBeGreaterThan(0);
      // the killed server comes back, at the current weights, and samples what its peer samples
      const deadline = Date.now() + 600_000;
      while (fleet.status[0]!.state !== 'ready' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
      expect(fleet.status[0]).toMatchObject({ state: 'ready', version: 8 });
      expect(fleet.status[0]!.pid).not.toBe(victim);
      expect(events.some((e) => e.kind === 'restarted' && e.member === 0 && e.version >= 4)).toBe(true);
      const prompt = [5, 17, 42, 7];
      const [a, b] = await Promise.all(fleet.urls.map((u) => greedy(u, 'keiko-policy', prompt)));
      expect(a!.ids).toEqual(b!.ids);
    }
  }, 1_200_000);

  it.todo('multi-turn rollouts sampled by vLLM pack with zero prefix breaks (measured 3 breaks in 60 guess-number rollouts: not investigated yet)');
});
