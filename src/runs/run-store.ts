import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, KeikoError } from '../core/errors.js';
import { RUN_FILES, RunManifest, StepMetrics } from '../core/run-manifest.js';
import { summarizeEval, type EvalSummary } from './eval-summary.js';
import { JsonlCache } from './jsonl-file.js';
import { RunIndex, type RunScan } from './run-index.js';
import { compareEvalLabels, labelOfEvalFile, ROLLOUT_SOURCE_PATTERN, rolloutSourceFile, stepOfRolloutsFile, stepSource } from './run-layout.js';
import { resolveInside } from './run-paths.js';

export { ROLLOUT_SOURCE_PATTERN } from './run-layout.js';
import { rolloutView, StoredRollout, type RolloutView } from './stored-rollout.js';
import { queryRollouts, rolloutSearchText, type RolloutPage, type RolloutSort } from './rollout-query.js';

/** A run id or a rollout source that does not exist. The dashboard answers 404. */
export class RunNotFoundError extends KeikoError {
  constructor(message: string) {
    super('run_not_found', message);
  }
}

/** A run's manifest plus what can be read from its folder. */
export const RunDetail = z.object({
  schemaVersion: z.literal(1).default(1),
  id: z.string(),
  manifest: RunManifest,
  hasMetrics: z.boolean(),
  /** Training steps with a rollouts file, ascending. */
  rolloutSteps: z.array(z.number().int()),
  /** Every rollout source: `results`, `rollouts/step-<n>`, `evals/<name>`. */
  sources: z.array(z.string()),
  /** Sources holding eval results: `results`, then `evals/<label>` in the order they ran (before, step-N, after). */
  evalSources: z.array(z.string()),
});
export type RunDetail = z.infer<typeof RunDetail>;

/** Parsed lines plus the count and reasons of skipped (corrupt or torn) lines. */
export interface ReadReport {
  skipped: number;
  warnings: string[];
}

/** Search text per parsed rollouts file, computed on the first search (kept as long as the parsed file). */
const searchTexts = new WeakMap<readonly StoredRollout[], string[]>();
function searchTextOf(rollouts: readonly StoredRollout[]): string[] {
  let texts = searchTexts.get(rollouts);
  if (!texts) {
    texts = rollouts.map(rolloutSearchText);
    searchTexts.set(rollouts, texts);
  }
  return texts;
}

/**
 * The reading side of the run store: lists runs, and reads a run's metrics, rollouts and eval
 * results with paging, skipping corrupt lines. Parsed files are cached by (mtime, size).
 */
export class RunStore {
  readonly runsDir: string;
  readonly index: RunIndex;
  private readonly files: JsonlCache;

  constructor(options: { runsDir: string; cacheFiles?: number }) {
    this.runsDir = options.runsDir;
    this.index = new RunIndex({ runsDir: options.runsDir });
    this.files = new JsonlCache({ maxEntries: options.cacheFiles ?? 64 });
  }

  /** All runs, newest first. */
  listRuns(): Promise<RunScan> {
    return this.index.scan();
  }

  /** The manifest and available sources of one run. Throws `RunNotFoundError`. */
  async run(options: { runId: string }): Promise<RunDetail> {
    const { dir, manifest } = await this.resolveRun(options.runId);
    const rolloutSteps = (await listNames(join(dir, RUN_FILES.rolloutsDir)))
      .map(stepOfRolloutsFile)
      .filter((s): s is number => s !== undefined)
      .sort((a, b) => a - b);
    const evalNames = (await listNames(join(dir, RUN_FILES.evalsDir)))
      .map(labelOfEvalFile)
      .filter((label): label is string => label !== undefined)
      .sort(compareEvalLabels);
    const top = new Set(await listNames(dir));
    const evalSources = [...(top.has(RUN_FILES.results) ? ['results'] : []), ...evalNames.map((n) => `evals/${n}`)];
    return {
      schemaVersion: 1,
      id: options.runId,
      manifest,
      hasMetrics: top.has(RUN_FILES.metrics),
      rolloutSteps,
      sources: [...evalSources, ...rolloutSteps.map(stepSource)],
      evalSources,
    };
  }

  /** `metrics.jsonl` rows with `step >= sinceStep` (all by default). A missing file is no rows. */
  async metrics(options: { runId: string; sinceStep?: number }): Promise<ReadReport & { rows: StepMetrics[] }> {
    const { dir } = await this.resolveRun(options.runId);
    const read = await this.files.read({ path: join(dir, RUN_FILES.metrics), schema: StepMetrics, label: `${options.runId}/${RUN_FILES.metrics}` });
    if (!read) return { rows: [], skipped: 0, warnings: [] };
    const since = options.sinceStep;
    const rows = since === undefined ? read.items : read.items.filter((r) => r.step >= since);
    return { rows, skipped: read.skipped, warnings: read.warnings };
  }

  /**
   * A filtered, sorted page of one source's rollouts, without their token-level `turns` unless
   * `withTurns` (then validated as they are served).
   */
  async rollouts(options: {
    runId: string;
    source: string;
    offset?: number;
    limit?: number;
    sort?: RolloutSort;
    errorsOnly?: boolean;
    search?: string;
    withTurns?: boolean;
  }): Promise<ReadReport & RolloutPage<RolloutView> & { source: string }> {
    const read = await this.readSource(options.runId, options.source);
    const searchText = options.search?.trim() ? searchTextOf(read.items) : undefined;
    const page = queryRollouts({ ...options, rollouts: read.items, ...(searchText && { searchText }) });
    const warnings = [...read.warnings];
    const items = page.items.map(({ index, rollout }) => {
      const { view, warning } = rolloutView({ rollout, ...(options.withTurns !== undefined && { withTurns: options.withTurns }) });
      if (warning) warnings.push(warning);
      return { index, rollout: view };
    });
    return { ...page, items, source: options.source, skipped: read.skipped, warnings };
  }

  /** All rollouts of one source, without turns (for reports and exports). */
  async allRollouts(options: { runId: string; source: string }): Promise<ReadReport & { rollouts: RolloutView[] }> {
    const read = await this.readSource(options.runId, options.source);
    return { rollouts: read.items.map((rollout) => rolloutView({ rollout }).view), skipped: read.skipped, warnings: read.warnings };
  }

  /** Pass@k and the per-example table of an eval source (`results` or `evals/<name>`). */
  async evalSummary(options: { runId: string; source: string; threshold?: number }): Promise<ReadReport & { source: string; summary: EvalSummary }> {
    const read = await this.readSource(options.runId, options.source);
    const summary = summarizeEval({ rollouts: read.items, ...(options.threshold !== undefined && { threshold: options.threshold }) });
    return { source: options.source, summary, skipped: read.skipped, warnings: read.warnings };
  }

  /** Absolute path of a file inside a run folder, or `undefined` if it would leave the folder. */
  async filePath(options: { runId: string; path: string }): Promise<string | undefined> {
    const { dir } = await this.resolveRun(options.runId);
    return resolveInside({ root: dir, parts: options.path.split('/') });
  }

  private async readSource(runId: string, source: string) {
    if (!ROLLOUT_SOURCE_PATTERN.test(source)) {
      throw new ConfigError(`bad rollout source '${source}'; expected 'results', 'rollouts/step-<n>' or 'evals/<name>'`);
    }
    const { dir } = await this.resolveRun(runId);
    const file = rolloutSourceFile(source);
    const path = resolveInside({ root: dir, parts: file.split('/') });
    const read = path ? await this.files.read({ path, schema: StoredRollout, label: `${runId}/${file}` }) : undefined;
    if (!read) throw new RunNotFoundError(`run '${runId}' has no rollouts at '${source}'`);
    return read;
  }

  private async resolveRun(runId: string): Promise<{ dir: string; manifest: RunManifest }> {
    const manifest = await this.index.manifest(runId);
    const dir = manifest && resolveInside({ root: this.runsDir, parts: [runId] });
    if (!manifest || !dir) throw new RunNotFoundError(`unknown run '${runId}' in ${this.runsDir}`);
    return { dir, manifest };
  }
}

async function listNames(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
