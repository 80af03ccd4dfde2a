import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { formatZodError, safeParseJson } from '../core/parse.js';
import { RUN_FILES, RunManifest, RUN_SCHEMA_VERSION, type RunKind, type RunStatus } from '../core/run-manifest.js';
import { isValidRunId } from './run-paths.js';

let tempCounter = 0;

/** Writes `text` to `path` atomically: a temp file in the same folder, then a rename over the target. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${tempCounter++}`;
  await writeFile(temp, text);
  await rename(temp, path);
}

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

/**
 * Writes one run folder (`runs/<id>/`): `run.json` (the `RunManifest`, rewritten atomically on every
 * change), JSON files and append-only JSONL files. The dashboard and `keiko runs` read what it writes.
 */
export class RunWriter {
  private constructor(
    readonly dir: string,
    private current: RunManifest,
  ) {}

  /** Creates a new run folder with status 'running'. */
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
    const manifest: RunManifest = {
      schemaVersion: RUN_SCHEMA_VERSION,
      id,
      kind: options.kind,
      status: 'running',
      env: options.env,
      model: options.model,
      startedAt: (options.now ?? new Date()).toISOString(),
      config: options.config ?? {},
      summary: {},
      checkpoints: [],
    };
    const writer = new RunWriter(join(options.runsDir, id), manifest);
    await writer.saveManifest();
    return writer;
  }

  /** Reopens an existing run folder (to resume it), setting its status back to 'running'. */
  static async open(options: { runsDir: string; id: string }): Promise<RunWriter> {
    if (!isValidRunId(options.id)) throw new ConfigError(`invalid run id '${options.id}'`);
    const dir = join(options.runsDir, options.id);
    let text: string;
    try {
      text = await readFile(join(dir, RUN_FILES.manifest), 'utf8');
    } catch {
      throw new ConfigError(`no run '${options.id}' in ${options.runsDir} (missing ${RUN_FILES.manifest})`);
    }
    const parsed = safeParseJson(text, RunManifest);
    if (!parsed.success) throw new ConfigError(`run '${options.id}' has an invalid ${RUN_FILES.manifest}: ${parsed.error}`);
    const writer = new RunWriter(dir, { ...parsed.data, status: 'running' });
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

  /** Writes a JSON file in the run folder atomically (pretty-printed). */
  async writeJson(name: string, value: unknown): Promise<void> {
    await mkdir(join(this.dir, name, '..'), { recursive: true });
    await writeFileAtomic(this.path(name), `${JSON.stringify(value, null, 2)}\n`);
  }

  /** Appends one line to a JSONL file in the run folder. */
  async appendJsonl(name: string, value: unknown): Promise<void> {
    await mkdir(join(this.dir, name, '..'), { recursive: true });
    await appendFile(this.path(name), `${JSON.stringify(value)}\n`);
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
  async finish(options: { status: Exclude<RunStatus, 'running'>; summary?: RunManifest['summary']; error?: string }): Promise<void> {
    await this.update({
      status: options.status,
      endedAt: new Date().toISOString(),
      ...(options.summary ? { summary: options.summary } : {}),
      ...(options.error ? { error: options.error } : {}),
    });
  }

  private async saveManifest(): Promise<void> {
    await writeFileAtomic(this.path(RUN_FILES.manifest), `${JSON.stringify(this.current, null, 2)}\n`);
  }
}
