// `--track`: keiko's metrics reach W&B, MLflow and TensorBoard through each tool's own client, checked
// with the real thing: W&B in offline mode read back from its run file, TensorBoard's own reader on
// the event files, and a local MLflow tracking server queried over its REST API.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/keiko-cli.js';

const python = join(repoRoot, 'tracking', '.venv', 'bin', 'python');
const hasTracking = existsSync(python);
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, reject) => {
    const child = spawn(cmd, args, { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const evalArgs = (out: string, backend: string) => [join(repoRoot, 'bin', 'keiko.js'), 'eval', '-e', 'arithmetic', '--test-server', 'arithmetic', '-n', '4', '-r', '2', '--track', backend, '--out', out, '--json'];

async function readBack(backend: 'wandb' | 'tensorboard', dir: string): Promise<{ scalars: Record<string, [number, number][]>; config?: Record<string, unknown> }> {
  const r = await run(python, [join(repoRoot, 'test', 'helpers', 'read_tracking.py'), backend, dir]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { scalars: Record<string, [number, number][]> };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe.skipIf(!hasTracking)('keiko eval --track (needs bash scripts/setup-tracking.sh --server)', () => {
  it('writes the eval summary to a W&B offline run that reads back', async () => {
    const out = await mkdtemp(join(tmpdir(), 'keiko-track-wandb-'));
    dirs.push(out);
    const r = await run(process.execPath, evalArgs(out, 'wandb'), { WANDB_MODE: 'offline', WANDB_SILENT: 'true' });
    expect(r.code, r.stderr).toBe(0);
    const [runId] = await readdir(out);
    const back = await readBack('wandb', join(out, runId!, 'tracking'));
    expect(back.scalars['eval/meanReward']).toEqual([[0, 1]]);
    expect(back.scalars['eval/errorRate']).toEqual([[0, 0]]);
    expect(back.scalars['eval/pass_at_2']).toEqual([[0, 1]]);
    expect(back.config).toMatchObject({ env: 'arithmetic', groupSize: 2, testServer: 'arithmetic' });
  });

  it("writes TensorBoard event files that TensorBoard's reader loads", async () => {
    const out = await mkdtemp(join(tmpdir(), 'keiko-track-tb-'));
    dirs.push(out);
    const r = await run(process.execPath, evalArgs(out, 'tensorboard'));
    expect(r.code, r.stderr).toBe(0);
    const [runId] = await readdir(out);
    const back = await readBack('tensorboard', join(out, runId!, 'tracking'));
    expect(back.scalars['eval/meanReward']).toEqual([[0, 1]]);
    expect(back.scalars['eval/scoredRollouts']).toEqual([[0, 8]]);
  });

  it('keiko train --track tensorboard: GRPO steps as train/*, held-out evals as eval/*', async () => {
    const out = await mkdtemp(join(tmpdir(), 'keiko-track-train-'));
    dirs.push(out);
    const args = [join(repoRoot, 'bin', 'keiko.js'), 'train', '--preset=quick', '--steps=2', '--sftSteps=4', '--promptsPerStep=2', '--groupSize=2', '--evalExamples=2', '--evalGroupSize=1', '--checkpointEvery=off', '--track', 'tensorboard', '--out-dir', out];
    const r = await run(process.execPath, args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('metrics sent to tensorboard');
    const [runId] = await readdir(out);
    const back = await readBack('tensorboard', join(out, runId!, 'tracking'));
    expect(back.scalars['train/reward']?.map(([step]) => step)).toEqual([1, 2]);
    expect(back.scalars['train/rollouts']).toEqual([[1, 4], [2, 4]]);
    expect(back.scalars['eval/reward']?.map(([step]) => step)).toEqual([0, 2]);
    expect(back.scalars['train/step']).toBeUndefined();
    expect(back.scalars['train/schemaVersion']).toBeUndefined();
  }, 300_000);

  it('logs a run with params and metrics to a local MLflow tracking server', async () => {
    const mlflow = join(repoRoot, 'tracking', '.venv', 'bin', 'mlflow');
    const dir = await mkdtemp(join(tmpdir(), 'keiko-track-mlflow-'));
    dirs.push(dir);
    const port = await freePort();
    const server = spawn(mlflow, ['server', '--host', '127.0.0.1', '--port', String(port), '--workers', '1', '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`, '--default-artifact-root', join(dir, 'artifacts')], { cwd: dir, stdio: 'ignore' });
    children.push(server);
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 300; i++) {
      if (await fetch(`${url}/health`).then((res) => res.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const r = await run(process.execPath, evalArgs(join(dir, 'runs'), 'mlflow'), { MLFLOW_TRACKING_URI: url });
    expect(r.code, r.stderr).toBe(0);
    const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
    const experiment = (await (await fetch(`${url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=keiko`)).json()) as { experiment: { experiment_id: string } };
    const search = (await (
      await fetch(`${url}/api/2.0/mlflow/runs/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ experiment_ids: [experiment.experiment.experiment_id] }) })
    ).json()) as { runs: { info: { run_name: string; status: string }; data: { metrics: { key: string; value: number; step: number }[]; params: { key: string; value: string }[] } }[] };
    const logged = search.runs.find((x) => x.info.run_name === runId)!;
    expect(logged.info.status).toBe('FINISHED');
    expect(logged.data.metrics).toContainEqual(expect.objectContaining({ key: 'eval/meanReward', value: 1, step: 0 }));
    expect(logged.data.params).toContainEqual({ key: 'groupSize', value: '2' });
  }, 420_000);
});

describe('keiko --track (bad input)', () => {
  it('rejects an unknown tracker with the valid names', async () => {
    const r = await run(process.execPath, [join(repoRoot, 'bin', 'keiko.js'), 'eval', '-e', 'arithmetic', '--test-server', 'echo', '--track', 'neptune']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--track must be one of wandb, mlflow, tensorboard/);
  });
});
