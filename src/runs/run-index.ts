import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { safeParseJson } from '../core/parse.js';
import { RUN_FILES, RunManifest } from '../core/run-manifest.js';
import { isValidRunId } from './run-paths.js';
import type { RunSummary } from './run-summary.js';

interface Cached {
  mtimeMs: number;
  size: number;
  manifest?: RunManifest;
  error?: string;
}

/** The result of a scan: runs newest first, plus folders whose `run.json` could not be read. */
export interface RunScan {
  runs: RunSummary[];
  warnings: string[];
}

/**
 * Lists the runs in a runs directory by reading only each folder's `run.json`, cached by
 * (mtime, size): a rescan of 1,000 unchanged runs costs 1,000 `stat` calls and no parsing.
 */
export class RunIndex {
  readonly runsDir: string;
  private readonly cache = new Map<string, Cached>();

  constructor(options: { runsDir: string }) {
    this.runsDir = options.runsDir;
  }

  /** Scans the directory. A missing directory is an empty list, not an error. */
  async scan(): Promise<RunScan> {
    let names: string[];
    try {
      const entries = await readdir(this.runsDir, { withFileTypes: true });
      names = entries.filter((e) => e.isDirectory() && isValidRunId(e.name)).map((e) => e.name);
    } catch {
      return { runs: [], warnings: [] };
    }
    const runs: RunSummary[] = [];
    const warnings: string[] = [];
    const seen = new Set<string>();
    const results = await Promise.all(names.map((name) => this.load(name)));
    names.forEach((name, i) => {
      const entry = results[i];
      if (!entry) return;
      seen.add(name);
      if (entry.manifest) runs.push(summarize(name, entry.manifest));
      else if (entry.error) warnings.push(`${name}: ${entry.error}`);
    });
    for (const name of this.cache.keys()) if (!seen.has(name)) this.cache.delete(name);
    runs.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.id.localeCompare(b.id)));
    return { runs, warnings };
  }

  /** The manifest of one run, or `undefined` when the folder or its `run.json` is missing or invalid. */
  async manifest(id: string): Promise<RunManifest | undefined> {
    if (!isValidRunId(id)) return undefined;
    return (await this.load(id))?.manifest;
  }

  private async load(name: string): Promise<Cached | undefined> {
    const path = join(this.runsDir, name, RUN_FILES.manifest);
    let info;
    try {
      info = await stat(path);
    } catch {
      this.cache.delete(name);
      return undefined; // not a run folder
    }
    const hit = this.cache.get(name);
    if (hit && hit.mtimeMs === info.mtimeMs && hit.size === info.size) return hit;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      return { mtimeMs: info.mtimeMs, size: info.size, error: `cannot read run.json: ${(error as Error).message}` };
    }
    const parsed = safeParseJson(text, RunManifest);
    const entry: Cached = parsed.success
      ? { mtimeMs: info.mtimeMs, size: info.size, manifest: parsed.data }
      : { mtimeMs: info.mtimeMs, size: info.size, error: `invalid run.json: ${parsed.error.slice(0, 200)}` };
    this.cache.set(name, entry);
    return entry;
  }
}

function summarize(id: string, m: RunManifest): RunSummary {
  const s = m.summary;
  const evalReward = s.evalReward ?? (m.kind === 'eval' ? s.meanReward : undefined);
  return {
    schemaVersion: 1,
    id,
    kind: m.kind,
    status: m.status,
    env: m.env,
    model: m.model,
    startedAt: m.startedAt,
    ...(m.endedAt !== undefined && { endedAt: m.endedAt }),
    ...(s.steps !== undefined && { steps: s.steps }),
    ...(s.rollouts !== undefined && { rollouts: s.rollouts }),
    ...(s.meanReward !== undefined && { meanReward: s.meanReward }),
    ...(s.bestReward !== undefined && { bestReward: s.bestReward }),
    // An eval run's held-out score is its mean reward; a training run's is its latest eval's.
    ...(evalReward !== undefined && { evalReward }),
    ...(m.error !== undefined && { error: m.error }),
  };
}
