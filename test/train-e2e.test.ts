// Real end-to-end training: a spawned engine, a keiko-created tiny model, the built-in arithmetic
// environment. Slow (minutes on 2 CPU cores); the engine runs with one torch thread.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunManifest, StepMetrics } from '../src/core/run-manifest.js';
import { parseTrainConfig } from '../src/train/config.js';
import { runTrainJob, type TrainJobResult } from '../src/train/train-job.js';
import { lastCheckpoint } from '../src/train/trainer-state.js';
import { loadBuiltinEnvironment } from '../environments/index.js';

const ROOT = resolve(import.meta.dirname, '..');
const hasEngine = existsSync(join(ROOT, 'engine', '.venv', 'bin', 'python'));

function metricsOf(dir: string): StepMetrics[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => StepMetrics.parse(JSON.parse(l)));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe.skipIf(!hasEngine)('keiko train end to end (real engine)', () => {
  const root = mkdtempSync(join(tmpdir(), 'keiko-e2e-'));
  let job: TrainJobResult;
  // A short version of the main job (create → SFT → GRPO, fixed seed) on 8 training problems, so
  // that a few dozen GRPO steps visibly sharpen the noisy teacher's answers.
  const E2E_CONFIG = {
    envArgs: { digits: 1, demoErrorRate: 0.3, count: 8, evalCount: 20 },
    sftSteps: 100,
    steps: 30,
    promptsPerStep: 8,
    lr: 1e-3,
    evalExamples: 20,
    evalGroupSize: 2,
    checkpointEvery: 10,
    seed: 0,
  };

  beforeAll(async () => {
    const config = parseTrainConfig(E2E_CONFIG);
    const env = await loadBuiltinEnvironment(config.env, config.envArgs);
    job = await runTrainJob({ config, env, runDir: join(root, 'main') });
  }, 400_000);

  it('GRPO raises the training reward over a few dozen steps and writes a complete run folder', () => {
    const metrics = metricsOf(job.runDir);
    expect(metrics.map((m) => m.step)).toEqual(Array.from({ length: E2E_CONFIG.steps }, (_, i) => i + 1));
    const rewards = metrics.map((m) => m.reward!);
    const first = mean(rewards.slice(0, 10));
    const last = mean(rewards.slice(-10));
    // Measured with this seed: ≈0.21 → ≈0.31. Sampling is batched across requests, so runs are not
    // bit-identical; the margin and the slope test leave room for that.
    expect(last).toBeGreaterThan(first + 0.05);
    const xs = rewards.map((_, i) => i);
    const mx = mean(xs);
    const my = mean(rewards);
    const slope = xs.reduce((a, x, i) => a + (x - mx) * (rewards[i]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    expect(slope).toBeGreaterThan(0);
    expect(job.grpo.before?.examples).toBe(20);
    expect(job.grpo.after?.examples).toBe(20);
    const manifest = RunManifest.parse(JSON.parse(readFileSync(join(job.runDir, 'run.json'), 'utf8')));
    expect(manifest.status).toBe('completed');
    expect(existsSync(join(job.runDir, 'checkpoints', 'step-000030', 'model.safetensors'))).toBe(true);
    expect(existsSync(join(job.runDir, 'rollouts', 'step-30.jsonl'))).toBe(true);
  });

  it('survives SIGKILL of the trainer: --resume continues with no step repeated or skipped', async () => {
    const runDir = join(root, 'killed');
    const args = [
      join(ROOT, 'bin', 'keiko.js'),
      'train',
      `--model=${job.modelDir}`,
      '--envArgs.digits=1',
      '--envArgs.count=8',
      '--promptsPerStep=8',
      '--steps=10',
      '--checkpointEvery=1',
      '--evalExamples=5',
      '--evalGroupSize=1',
      `--outDir=${root}`,
      '--runName=killed',
    ];
    // Own process group, so killing it also kills the engine it spawned.
    const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: 'ignore' });
    const deadline = Date.now() + 240_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      const ckpt = lastCheckpoint(join(runDir, 'checkpoints'));
      if (ckpt && ckpt.state.step >= 4) break;
    }
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const before = metricsOf(runDir).map((m) => m.step);
    expect(before.length).toBeGreaterThanOrEqual(4);
    expect(before.length).toBeLessThan(10);

    const resumed = spawn(process.execPath, [join(ROOT, 'bin', 'keiko.js'), 'train', '--resume', runDir], { cwd: ROOT, stdio: 'pipe' });
    let output = '';
    resumed.stdout.on('data', (d: Buffer) => (output += d.toString()));
    resumed.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise((r) => resumed.once('exit', r));
    expect(code, output).toBe(0);
    expect(output).toMatch(/resuming after step \d+/);
    const metrics = metricsOf(runDir);
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const times = metrics.map((m) => m.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(RunManifest.parse(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'))).status).toBe('completed');
  }, 400_000);

  it('restarts a killed engine and continues from the last checkpoint', async () => {
    const config = parseTrainConfig({ model: job.modelDir, envArgs: { digits: 1, count: 8 }, promptsPerStep: 8, steps: 8, checkpointEvery: 2, evalExamples: 5, evalGroupSize: 1, outDir: root, runName: 'engine-killed' });
    const env = await loadBuiltinEnvironment(config.env, config.envArgs);
    const pids: number[] = [];
    let killed = false;
    const result = await runTrainJob({
      config,
      env,
      runDir: join(root, 'engine-killed'),
      onEngineStart: ({ pid }) => pids.push(pid!),
      onEvent: (event) => {
        if (event.kind === 'step' && event.step === 3 && !killed) {
          killed = true;
          process.kill(pids[0]!, 'SIGKILL');
        }
      },
    });
    expect(result.grpo.restarts).toBe(1);
    expect(pids).toHaveLength(2);
    const metrics = metricsOf(result.runDir);
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(metrics.every((m) => m['skipped'] === 0)).toBe(true);
  }, 400_000);
});
