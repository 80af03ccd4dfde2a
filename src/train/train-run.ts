import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES, RunManifest, StepMetrics, type RunKind } from '../core/run-manifest.js';
import { ConfigError } from '../core/errors.js';
import { safeParseJson } from '../core/parse.js';
import type { RolloutResult } from '../core/rollout-result.js';

/**
 * A training run folder: `run.json`, `config.json`, `metrics.jsonl`, `rollouts/step-N.jsonl`,
 * `evals/<label>.json` and `checkpoints/`. Every whole-file write is atomic (temp + rename); JSONL
 * files are appended one complete line at a time.
 */
export class TrainRun {
  readonly dir: string;
  private manifest: RunManifest;

  private constructor(dir: string, manifest: RunManifest) {
    this.dir = dir;
    this.manifest = manifest;
  }

  get checkpointsDir(): string {
    return join(this.dir, RUN_FILES.checkpointsDir);
  }

  get metricsPath(): string {
    return join(this.dir, RUN_FILES.metrics);
  }

  /** Creates a new run folder (fails if it already holds a run) or reopens one for `--resume`. */
  static open(options: { dir: string; kind: RunKind; env: string; model: string; config: Record<string, unknown>; resume: boolean }): TrainRun {
    const { dir } = options;
    const manifestPath = join(dir, RUN_FILES.manifest);
    let manifest: RunManifest;
    if (options.resume && existsSync(manifestPath)) {
      const parsed = safeParseJson(readFileSync(manifestPath, 'utf8'), RunManifest);
      if (!parsed.success) throw new Error(`cannot resume: ${manifestPath} is unreadable: ${parsed.error}`);
      manifest = { ...parsed.data, status: 'running' };
      delete manifest.endedAt;
      delete manifest.error;
    } else {
      if (existsSync(manifestPath)) {
        throw new ConfigError(`run folder '${dir}' already holds a run; resume it (--resume ${dir}) or choose another runName/outDir`);
      }
      manifest = RunManifest.parse({
        id: dir.split(/[\\/]/).filter(Boolean).at(-1) ?? 'run',
        kind: options.kind,
        status: 'running',
        env: options.env,
        model: options.model,
        startedAt: new Date().toISOString(),
        config: options.config,
      });
    }
    mkdirSync(join(dir, RUN_FILES.rolloutsDir), { recursive: true });
    mkdirSync(join(dir, RUN_FILES.evalsDir), { recursive: true });
    mkdirSync(join(dir, RUN_FILES.checkpointsDir), { recursive: true });
    const run = new TrainRun(dir, manifest);
    writeJsonAtomic(join(dir, RUN_FILES.config), options.config);
    run.writeManifest();
    return run;
  }

  /** Updates and rewrites `run.json`. */
  update(change: (manifest: RunManifest) => void): void {
    change(this.manifest);
    this.writeManifest();
  }

  get info(): Readonly<RunManifest> {
    return this.manifest;
  }

  appendMetrics(metrics: StepMetrics): void {
    appendFileSync(this.metricsPath, JSON.stringify(StepMetrics.parse(metrics)) + '\n');
  }

  /** Valid metrics lines in file order. */
  readMetrics(): StepMetrics[] {
    if (!existsSync(this.metricsPath)) return [];
    const out: StepMetrics[] = [];
    for (const line of readFileSync(this.metricsPath, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const parsed = safeParseJson(line, StepMetrics);
      if (parsed.success) out.push(parsed.data);
    }
    return out;
  }

  /**
   * Rewinds the folder to the state after `step`: metrics lines and rollout files of later steps
   * (written after the checkpoint being resumed from) are removed, so no step appears twice.
   */
  rewindTo(step: number): void {
    const kept = this.readMetrics().filter((m) => m.step <= step);
    writeTextAtomic(this.metricsPath, kept.map((m) => JSON.stringify(m) + '\n').join(''));
    const rolloutsDir = join(this.dir, RUN_FILES.rolloutsDir);
    for (const name of readdirSync(rolloutsDir)) {
      const m = /^step-(\d+)\.jsonl$/.exec(name);
      if (m && Number(m[1]) > step) rmSync(join(rolloutsDir, name), { force: true });
    }
  }

  writeRollouts(step: number, results: readonly RolloutResult[]): void {
    writeTextAtomic(join(this.dir, RUN_FILES.rolloutsDir, `step-${step}.jsonl`), results.map((r) => JSON.stringify(r) + '\n').join(''));
  }

  writeEval(label: string, payload: unknown): void {
    writeJsonAtomic(join(this.dir, RUN_FILES.evalsDir, `${label}.json`), payload);
  }

  private writeManifest(): void {
    writeJsonAtomic(join(this.dir, RUN_FILES.manifest), RunManifest.parse(this.manifest));
  }
}

function writeJsonAtomic(path: string, value: unknown): void {
  writeTextAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

function writeTextAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
