import { appendFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { readJsonlFile, toJsonl, writeFileAtomic, writeJsonAtomic } from '../core/json-files.js';
import { formatZodError, safeParseJson } from '../core/parse.js';
import type { RolloutResult } from '../core/rollout-result.js';
import { RUN_FILES, RunManifest, RUN_SCHEMA_VERSION, StepMetrics, type RunKind, type RunStatus } from '../core/run-manifest.js';
import { EVAL_LABEL_PATTERN, labelOfEvalFile, runLayout, stepOfRolloutsFile, TrainEvalSummary } from './run-layout.js';
import { isValidRunId } from './run-paths.js';

export { writeFileAtomic } from '../core/json-files.js';

/** A run id from the time, kind and environment: `20260522-134501-eval-arithmetic`. */
export function makeRunId(options: { kind: RunKind; env: string; now?: Date }): string {
  const iso = (options.now ?? new Date()).toISOString();
  const stamp = `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
  const env = options.env.replace(/^.*[\\/]/, '').replace(/\.[cm]?[jt]s$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '').slice(0, 60);
  return `${stamp}-${options.kind}${env ? `-${env}` : ''}`;
}

export interface CreateRunOptions {
  /** Folder holding all runs (`runs/`). */
  runsDir: string;
  kind: RunKind;
  env: string;
  model: string;
  /** Run id; default `makeRunId`, with `-2`, `-3`… appended if taken. */
  id?: string;
  config?: Record<string, unknown>;
  now?: Date;
}

/** The rollouts and figures of one held-out eval during training (what `RunWriter.writeEval` takes). */
export interface TrainEvalInput extends Omit<TrainEvalSummary, 'schemaVersion' | 'label' | 'rollouts' | 'reward' | 'metrics'> {
  reward: number;
  metrics: Record<string, number>;
  results: readonly RolloutResult[];
}

/**
 * Writes one run folder (`runs/<id>/`, laid out as `runLayout` says) for eval, sft and train runs:
 * `run.json` (the `RunManifest`, rewritten atomically on every change), JSON files written
 * atomically and JSONL files appended one whole line at a time. `RunStore`, the dashboard and
 * `keiko runs` read what it writes.
 */
export class RunWriter {
  private constructor(
    readonly dir: string,
    private current: RunManifest,
  ) {}

  /** Creates a new run folder in `runsDir` with status 'running' (what `keiko eval` does). */
  static async create(options: CreateRunOptions): Promise<RunWriter> {
    const base = options.id ?? makeRunId({ kind: options.kind, env: options.env, ...(options.now ? { now: options.now } : {}) });
    if (!isValidRunId(base)) throw new ConfigError(`invalid run id '${base}'; use letters, digits, '.', '_' and '-'`);
    await mkdir(options.runsDir, { recursive: true });
    let id = base;
    for (let n = 2; ; n++) {
      try {
        await mkdir(join(options.runsDir, id));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (options.id) throw new ConfigError(`run '${id}' already exists in ${options.runsDir}; choose another id or resume it`);
        id = `${base}-${n}`;
      }
    }
    const writer = new RunWriter(join(options.runsDir, id), newManifest({ ...options, id }));
    await writer.saveManifest();
    return writer;
  }

  /** Reopens an existing run folder (to resume it), setting its status back to 'running'. */
  static async open(options: { runsDir: string; id: string }): Promise<RunWriter> {
    if (!isValidRunId(options.id)) throw new ConfigError(`invalid run id '${options.id}'`);
    const dir = join(options.runsDir, options.id);
    const loaded = await loadManifest(dir);
    if (!loaded) throw new ConfigError(`no run '${options.id}' in ${options.runsDir} (missing ${RUN_FILES.manifest})`);
    if (!loaded.success) throw new ConfigError(`run '${options.id}' has an invalid ${RUN_FILES.manifest}: ${loaded.error}`);
    return RunWriter.reopen(dir, loaded.data);
  }

  /**
   * Starts a training or SFT run in the folder `dir` (created if needed; its name is the run id),
   * writing `config.json` beside the manifest; with `resume`, reopens the run already there. Fails
   * when `dir` already holds a run and `resume` is not set.
   */
  static async start(options: { dir: string; kind: RunKind; env: string; model: string; config: Record<string, unknown>; resume?: boolean; now?: Date }): Promise<RunWriter> {
    const { dir } = options;
    const loaded = await loadManifest(dir);
    let writer: RunWriter;
    if (loaded && options.resume) {
      if (!loaded.success) throw new Error(`cannot resume: ${join(dir, RUN_FILES.manifest)} is unreadable: ${loaded.error}`);
      writer = await RunWriter.reopen(dir, loaded.data);
    } else {
      if (loaded) throw new ConfigError(`run folder '${dir}' already holds a run; resume it (--resume ${dir}) or choose another runName/outDir`);
      await mkdir(dir, { recursive: true });
      writer = new RunWriter(dir, newManifest({ ...options, id: basename(dir) || 'run' }));
      await writer.saveManifest();
    }
    for (const sub of [RUN_FILES.rolloutsDir, RUN_FILES.evalsDir, RUN_FILES.checkpointsDir]) await mkdir(join(dir, sub), { recursive: true });
    await writer.writeJson(RUN_FILES.config, options.config);
    return writer;
  }

  private static async reopen(dir: string, manifest: RunManifest): Promise<RunWriter> {
    const writer = new RunWriter(dir, { ...manifest, status: 'running' });
    delete writer.current.endedAt;
    delete writer.current.error;
    await writer.saveManifest();
    return writer;
  }

  get id(): string {
    return this.current.id;
  }

  /** A copy of the manifest as last written. */
  get manifest(): RunManifest {
    return structuredClone(this.current);
  }

  /** Absolute path of a file inside the run folder. */
  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Folder of the run's checkpoints. */
  get checkpointsDir(): string {
    return this.path(RUN_FILES.checkpointsDir);
  }

  /** Writes a JSON file in the run folder atomically (pretty-printed). */
  async writeJson(name: string, value: unknown): Promise<void> {
    await mkdir(dirname(this.path(name)), { recursive: true });
    await writeJsonAtomic(this.path(name), value);
  }

  /** Appends one line to a JSONL file in the run folder. */
  async appendJsonl(name: string, value: unknown): Promise<void> {
    await mkdir(dirname(this.path(name)), { recursive: true });
    await appendFile(this.path(name), `${JSON.stringify(value)}\n`);
  }

  /** Appends a training step's line to `metrics.jsonl`. */
  async appendMetrics(metrics: StepMetrics): Promise<void> {
    await this.appendJsonl(RUN_FILES.metrics, StepMetrics.parse(metrics));
  }

  /** The valid lines of `metrics.jsonl`, in file order (torn and corrupt lines skipped). */
  async readMetrics(): Promise<StepMetrics[]> {
    return (await readJsonlFile({ path: this.path(RUN_FILES.metrics), schema: StepMetrics }))?.items ?? [];
  }

  /** Writes the rollouts of training step `step` (`rollouts/step-<n>.jsonl`) atomically. */
  async writeRollouts(step: number, results: readonly RolloutResult[]): Promise<void> {
    await this.writeText(runLayout.stepRollouts(step), toJsonl(results));
  }

  /**
   * Writes a held-out eval of a training run: its rollouts (`evals/<label>.jsonl`, what the
   * dashboard lists) and its summary (`evals/<label>.json`), and makes its reward the run's
   * `summary.evalReward`, so the runs table shows the latest eval.
   */
  async writeEval(label: string, report: TrainEvalInput): Promise<void> {
    if (!EVAL_LABEL_PATTERN.test(label)) throw new Error(`invalid eval label '${label}'; use letters, digits, '.', '_' and '-'`);
    const finite = (x: number) => (Number.isFinite(x) ? x : null);
    const summary: TrainEvalSummary = {
      schemaVersion: 1,
      label,
      step: report.step,
      policyVersion: report.policyVersion,
      examples: report.examples,
      samplesPerExample: report.samplesPerExample,
      temperature: report.temperature,
      reward: finite(report.reward),
      metrics: Object.fromEntries(Object.entries(report.metrics).map(([k, v]) => [k, finite(v)])),
      errors: report.errors,
      seconds: report.seconds,
      rollouts: runLayout.evalRollouts(label),
    };
    await this.writeText(runLayout.evalRollouts(label), toJsonl(report.results));
    await this.writeJson(runLayout.evalSummary(label), TrainEvalSummary.parse(summary));
    if (summary.reward !== null) await this.update({ summary: { evalReward: summary.reward } });
  }

  /**
   * Rewinds the folder to the state after `step` (to resume from that step's checkpoint): metrics
   * lines, rollout files and periodic evals of later steps are removed, so no step appears twice.
   */
  async rewindTo(step: number): Promise<void> {
    const kept = (await this.readMetrics()).filter((m) => m.step <= step);
    await this.writeText(RUN_FILES.metrics, toJsonl(kept));
    for (const name of await listNames(this.path(RUN_FILES.rolloutsDir))) {
      const s = stepOfRolloutsFile(name);
      if (s !== undefined && s > step) await rm(this.path(RUN_FILES.rolloutsDir, name), { force: true });
    }
    for (const name of await listNames(this.path(RUN_FILES.evalsDir))) {
      const label = labelOfEvalFile(name);
      const s = label === undefined ? undefined : /^step-(\d+)$/.exec(label)?.[1];
      if (label === undefined || s === undefined || Number(s) <= step) continue;
      await rm(this.path(runLayout.evalRollouts(label)), { force: true });
      await rm(this.path(runLayout.evalSummary(label)), { force: true });
    }
  }

  /** Merges `patch` into the manifest (summary and config merged key by key) and rewrites it. */
  async update(patch: Partial<Omit<RunManifest, 'id' | 'schemaVersion'>>): Promise<void> {
    const next: RunManifest = {
      ...this.current,
      ...patch,
      summary: { ...this.current.summary, ...patch.summary },
      config: { ...this.current.config, ...patch.config },
    };
    const checked = RunManifest.safeParse(next);
    if (!checked.success) throw new Error(`invalid run manifest update: ${formatZodError(checked.error)}`);
    this.current = checked.data;
    await this.saveManifest();
  }

  /** Marks the run finished: status, end time, final summary and (for failures) the error. */
  async finish(options: { status: Exclude<RunStatus, 'running'>; summary?: RunManifest['summary']; error?: string; now?: Date }): Promise<void> {
    await this.update({
      status: options.status,
      endedAt: (options.now ?? new Date()).toISOString(),
      ...(options.summary ? { summary: options.summary } : {}),
      ...(options.error ? { error: options.error } : {}),
    });
  }

  private async writeText(name: string, text: string): Promise<void> {
    await mkdir(dirname(this.path(name)), { recursive: true });
    await writeFileAtomic(this.path(name), text);
  }

  private async saveManifest(): Promise<void> {
    await writeJsonAtomic(this.path(RUN_FILES.manifest), this.current);
  }
}

function newManifest(options: { id: string; kind: RunKind; env: string; model: string; config?: Record<string, unknown>; now?: Date }): RunManifest {
  return {
    schemaVersion: RUN_SCHEMA_VERSION,
    id: options.id,
    kind: options.kind,
    status: 'running',
    env: options.env,
    model: options.model,
    startedAt: (options.now ?? new Date()).toISOString(),
    config: options.config ?? {},
    summary: {},
    checkpoints: [],
  };
}

/** The parsed `run.json` of `dir`, or `undefined` when there is none. */
async function loadManifest(dir: string): Promise<ReturnType<typeof safeParseJson<typeof RunManifest>> | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, RUN_FILES.manifest), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return safeParseJson(text, RunManifest);
}

async function listNames(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
