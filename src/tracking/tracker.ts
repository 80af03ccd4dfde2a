import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, KeikoError } from '../core/errors.js';

/** The experiment trackers keiko can send metrics to. */
export const TRACKERS = ['wandb', 'mlflow', 'tensorboard'] as const;
export type TrackerName = (typeof TRACKERS)[number];

const TRACKING_DIR = fileURLToPath(new URL('../../tracking', import.meta.url));
const REPO_PYTHON = fileURLToPath(new URL('../../tracking/.venv/bin/python', import.meta.url));

/** The Python with keiko_tracking's clients: `KEIKO_TRACKING_PYTHON`, else the repo's tracking/.venv. */
export function trackingPython(): string {
  const python = process.env.KEIKO_TRACKING_PYTHON ?? REPO_PYTHON;
  if (!existsSync(python)) {
    throw new ConfigError(`the tracker clients are not installed (no ${python}); run 'bash scripts/setup-tracking.sh' (W&B, MLflow and TensorBoard clients) or set KEIKO_TRACKING_PYTHON`);
  }
  return python;
}

export interface TrackerOptions {
  backend: TrackerName;
  /** Run name in the tracker (keiko's run id). */
  runName: string;
  /** W&B project / MLflow experiment. Default 'keiko'. */
  project?: string;
  /** 'train', 'sft' or 'eval'. */
  kind: string;
  /** Where W&B and TensorBoard write their files (the run folder's `tracking/`). */
  dir: string;
  /** Extra environment (WANDB_MODE, MLFLOW_TRACKING_URI…); the process's own is passed too. */
  env?: Record<string, string>;
}

/**
 * Sends a run's config and metrics to W&B, MLflow or TensorBoard through the tool's own Python client
 * (`python -m keiko_tracking`, one process per run, JSON lines on its stdin). Writes never block
 * training; `finish` waits until the tracker has flushed and fails when the tracker did.
 */
export class Tracker {
  private readonly proc: ChildProcess;
  private stderr = '';
  private readonly exited: Promise<number | null>;

  private constructor(readonly options: TrackerOptions) {
    const args = ['-m', 'keiko_tracking', '--backend', options.backend, '--run-name', options.runName, '--project', options.project ?? 'keiko', '--kind', options.kind, '--dir', options.dir];
    this.proc = spawn(trackingPython(), args, {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env, ...options.env, PYTHONPATH: [TRACKING_DIR, process.env.PYTHONPATH].filter(Boolean).join(':'), PYTHONUNBUFFERED: '1' },
    });
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-8000);
    });
    this.proc.stdin!.on('error', () => {}); // a tracker that died is reported by finish()
    this.exited = new Promise((resolve) => {
      this.proc.on('error', (error) => {
        this.stderr += String(error);
        resolve(null);
      });
      this.proc.on('close', (code) => resolve(code));
    });
  }

  /** Starts the tracker process; a missing client venv is a `ConfigError` naming the setup command. */
  static start(options: TrackerOptions): Tracker {
    return new Tracker(options);
  }

  /** Run settings: W&B config, MLflow params, a TensorBoard text summary. */
  config(config: Record<string, unknown>): void {
    this.send({ kind: 'config', config });
  }

  /** Numeric values at a step; NaN and non-numbers are left out. Keys like 'train/reward' group charts. */
  log(step: number, values: Record<string, unknown>): void {
    const numeric = Object.fromEntries(Object.entries(values).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)));
    if (Object.keys(numeric).length) this.send({ kind: 'metrics', step, values: numeric });
  }

  /** Ends the run in the tracker and waits for it to flush. */
  async finish(status: 'completed' | 'failed' | 'interrupted' = 'completed'): Promise<void> {
    this.send({ kind: 'finish', status });
    this.proc.stdin!.end();
    const code = await this.exited;
    if (code !== 0) throw new KeikoError('tracker_error', `the ${this.options.backend} tracker failed (exit ${code}): ${lastLines(this.stderr)}`);
  }

  private send(message: unknown): void {
    if (this.proc.stdin!.writable) this.proc.stdin!.write(`${JSON.stringify(message)}\n`);
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-5).join('\n') || 'no output';
}
