import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { ConfigError, EngineError } from '../core/errors.js';
import { safeParseJson } from '../core/parse.js';
import type { SamplingArgs } from '../core/sampler.js';
import {
  EngineErrorBody,
  EngineInfo,
  ForwardBackwardResult,
  LoadResult,
  OptimStepResult,
  SaveResult,
  optimStepWire,
  toWire,
  type ForwardBackwardRequest,
  type OptimStepRequest,
  type SaveRequest,
} from './engine-api.js';
import { EngineSampler } from './engine-sampler.js';

/** How to start a local engine process (`python -m keiko_engine serve`). */
export interface EngineSpawnOptions {
  /** Local Hugging Face model directory. */
  model: string;
  /** Python with keiko_engine installed. Default: `KEIKO_ENGINE_PYTHON`, else the repo's engine/.venv/bin/python. */
  python?: string;
  host?: string;
  /** Port; default: a free port chosen by the OS. */
  port?: number;
  device?: 'auto' | 'cpu' | 'cuda';
  /** torch CPU threads; default: the engine's measured default. */
  threads?: number;
  /** > 0: train LoRA adapters of this rank. */
  loraRank?: number;
  /** LoRA alpha (only with `loraRank`); default: the engine's. */
  loraAlpha?: number;
  /** KL reference: 'auto' (copy of the loaded weights), 'none', or a model directory. */
  reference?: string;
  seed?: number;
  /** Extra CLI flags passed to `serve`. */
  extraArgs?: string[];
  /** Extra environment variables for the engine process (e.g. OMP_NUM_THREADS). */
  env?: Record<string, string>;
  /** How long to wait for /health after (re)starting. Default 120 s. */
  startupTimeoutMs?: number;
  /**
   * Restart the process if it dies (from the last checkpoint saved or loaded). Default true. Set
   * false when the caller restarts it itself with `restart()`.
   */
  restart?: boolean;
  /** Restarts allowed over the client's life. Default 3. */
  maxRestarts?: number;
  /** Where the engine's stdout/stderr lines go. Default: dropped (kept in `recentOutput`). */
  onOutput?: (line: string) => void;
  /** Called after a restart, with the model directory the engine was restarted from. */
  onRestart?: (info: { restarts: number; model: string; exitCode: number | null }) => void;
}

/** Connects to an engine that something else started. */
export interface EngineConnectOptions {
  /** Base URL of the engine, e.g. http://127.0.0.1:8321 (no /v1). */
  url: string;
  startupTimeoutMs?: number;
}

/** Options for `EngineClient.createModel` (`python -m keiko_engine create`). */
export interface CreateModelOptions {
  out: string;
  /** Text files the BPE tokenizer is trained on. */
  corpus: string[];
  python?: string;
  architecture?: 'qwen2' | 'llama';
  vocabSize?: number;
  hidden?: number;
  layers?: number;
  heads?: number;
  maxContext?: number;
  seed?: number;
}

/** Options for the engine-backed sampler. */
export interface EngineSamplerOptions {
  /** Sampling defaults; `returnTokens` defaults to true (the engine always can). */
  defaultSampling?: SamplingArgs;
  timeoutMs?: number;
}

const REPO_PYTHON = fileURLToPath(new URL('../../engine/.venv/bin/python', import.meta.url));

/** The Python that runs the engine: explicit, `KEIKO_ENGINE_PYTHON`, or the repo's engine/.venv. */
export function defaultEnginePython(explicit?: string): string {
  const python = explicit ?? process.env.KEIKO_ENGINE_PYTHON ?? REPO_PYTHON;
  if (!existsSync(python)) {
    throw new ConfigError(`engine Python not found at ${python}; run 'bash scripts/setup.sh' or set KEIKO_ENGINE_PYTHON`);
  }
  return python;
}

/** A free TCP port on 127.0.0.1, chosen by the OS. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Client of keiko's Python engine: starts it (or connects to a running one), waits until healthy,
 * offers typed training calls, an OpenAI-compatible `Sampler` over the same weights, and restarts the
 * process if it dies. Training calls made while it is down fail with `EngineError`.
 */
export class EngineClient {
  private proc: ChildProcess | undefined;
  private stopped = false;
  private restarts = 0;
  private ready: Promise<void> = Promise.resolve();
  private lastCheckpoint: string | undefined;
  private readonly output: string[] = [];

  private constructor(
    private baseUrl: string,
    private readonly spawnOptions: (EngineSpawnOptions & { port: number; host: string }) | undefined,
    private readonly startupTimeoutMs: number,
  ) {}

  /** Spawns `python -m keiko_engine serve` and resolves once /health answers. */
  static async spawn(options: EngineSpawnOptions): Promise<EngineClient> {
    if (!options.model) throw new ConfigError('EngineClient.spawn needs a model directory');
    if (!existsSync(options.model)) throw new ConfigError(`model directory not found: ${options.model}`);
    defaultEnginePython(options.python);
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? (await freePort());
    const client = new EngineClient(`http://${host}:${port}`, { ...options, host, port }, options.startupTimeoutMs ?? 120_000);
    client.ready = client.start(options.model);
    await client.ready;
    return client;
  }

  /** Connects to an engine started elsewhere and waits for /health. */
  static async connect(options: EngineConnectOptions): Promise<EngineClient> {
    if (!URL.canParse(options.url)) throw new ConfigError(`invalid engine URL '${options.url}'; expected e.g. http://127.0.0.1:8321`);
    const client = new EngineClient(options.url.replace(/\/+$/, '').replace(/\/v1$/, ''), undefined, options.startupTimeoutMs ?? 30_000);
    await client.waitHealthy();
    return client;
  }

  /** Creates a tiny random model with a BPE tokenizer trained on `corpus`; resolves to its directory. */
  static async createModel(options: CreateModelOptions): Promise<string> {
    const python = defaultEnginePython(options.python);
    if (!options.corpus.length) throw new ConfigError('createModel needs at least one corpus file');
    const args = ['-m', 'keiko_engine', 'create', '--out', options.out, '--corpus', ...options.corpus];
    const flags: [string, string | number | undefined][] = [
      ['--architecture', options.architecture],
      ['--vocab-size', options.vocabSize],
      ['--hidden', options.hidden],
      ['--layers', options.layers],
      ['--heads', options.heads],
      ['--max-context', options.maxContext],
      ['--seed', options.seed],
    ];
    for (const [flag, value] of flags) if (value !== undefined) args.push(flag, String(value));
    const { code, output } = await runProcess(python, args);
    if (code !== 0) {
      const message = `keiko_engine create failed (exit ${code}): ${output.trim().split('\n').slice(-5).join('\n')}`;
      throw code === 2 ? new ConfigError(message) : new EngineError(message);
    }
    return options.out;
  }

  /** The engine's base URL (no /v1). */
  get url(): string {
    return this.baseUrl;
  }

  /** The OpenAI-compatible base URL (`…/v1`), for any OpenAI client. */
  get openaiBaseUrl(): string {
    return `${this.baseUrl}/v1`;
  }

  /** Last lines the spawned engine printed (for error messages). */
  get recentOutput(): string {
    return this.output.join('\n');
  }

  /** Process id of the spawned engine, if any. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async health(): Promise<boolean> {
    try {
      const res = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(2000) });
      return res.ok;
    } catch {
      return false;
    }
  }

  async info(): Promise<EngineInfo> {
    return this.request('GET', '/info', undefined, EngineInfo);
  }

  /** Accumulates gradients for a batch of sequences under a loss; steps too when `optimStep` is given. */
  async forwardBackward(request: ForwardBackwardRequest): Promise<ForwardBackwardResult> {
    if (request.sequences.length === 0) throw new ConfigError('forwardBackward needs at least one sequence');
    return this.request('POST', '/train/forward_backward', toWire(request), ForwardBackwardResult);
  }

  /** One AdamW step with the accumulated gradients; `skipped` when they were non-finite. */
  async optimStep(request: OptimStepRequest): Promise<OptimStepResult> {
    return this.request('POST', '/train/optim_step', optimStepWire(request), OptimStepResult);
  }

  /** Writes an atomic Hugging Face checkpoint (weights, tokenizer, trainer_state). */
  async save(request: SaveRequest): Promise<SaveResult> {
    const res = await this.request(
      'POST',
      '/train/save',
      { path: request.path, merged_lora: request.mergedLora ?? false, optimizer: request.optimizer ?? true },
      SaveResult,
    );
    if (!request.mergedLora) this.lastCheckpoint = res.path;
    return res;
  }

  /** Loads weights (and optimizer state, step) from a checkpoint directory. */
  async load(path: string): Promise<LoadResult> {
    const res = await this.request('POST', '/train/load', { path }, LoadResult);
    this.lastCheckpoint = res.path;
    return res;
  }

  /** A `Sampler` over the engine's OpenAI-compatible API that returns token ids and logprobs (and batches with `chatMany`). */
  sampler(options: EngineSamplerOptions = {}): EngineSampler {
    return new EngineSampler({
      model: 'keiko-engine',
      baseUrl: this.openaiBaseUrl,
      apiKey: 'none',
      defaultSampling: { returnTokens: true, ...options.defaultSampling },
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /**
   * Stops the spawned engine if it still runs and starts it again on the same URL from `model`
   * (default: the model it was spawned with, not the last checkpoint), resolving once healthy. For
   * callers that reload their own checkpoint after a crash (spawn them with `restart: false`).
   * Connected clients cannot restart.
   */
  async restart(options: { model?: string } = {}): Promise<void> {
    const o = this.spawnOptions;
    if (!o) throw new ConfigError('restart() needs an engine this client spawned, not one it connected to');
    if (this.stopped) throw new EngineError('engine client was stopped');
    await this.ready.catch(() => undefined); // let an automatic restart in flight settle first
    const proc = this.proc;
    this.proc = undefined; // its exit is ours, not a crash to restart from
    if (proc) await killProcess(proc);
    this.ready = this.start(options.model ?? o.model);
    await this.ready;
  }

  /** Stops the spawned process (SIGTERM, then SIGKILL after 5 s). A connected client just forgets the URL. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.proc) await killProcess(this.proc);
  }

  // ----- internals ------------------------------------------------------------------------------

  private async request<S extends z.ZodType>(method: 'GET' | 'POST', path: string, body: unknown, schema: S): Promise<z.infer<S>> {
    await this.ready;
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new EngineError(`engine at ${this.baseUrl} unreachable for ${path}: ${(error as Error).message}`, { cause: error });
    }
    const text = await res.text();
    if (!res.ok) {
      const err = safeParseJson(text, EngineErrorBody);
      const detail = err.success ? `${err.data.error.code}: ${err.data.error.message}` : text.slice(0, 500);
      throw new EngineError(`engine ${path} failed (${res.status}) ${detail}`, { status: res.status });
    }
    const parsed = safeParseJson(text, schema);
    if (!parsed.success) throw new EngineError(`engine ${path}: unexpected response: ${parsed.error}`, { status: res.status });
    return parsed.data;
  }

  private async waitHealthy(): Promise<void> {
    const deadline = Date.now() + this.startupTimeoutMs;
    while (Date.now() < deadline) {
      if (this.stopped) throw new EngineError('engine stopped while starting');
      const proc = this.proc;
      if (proc && (proc.exitCode !== null || proc.signalCode !== null)) {
        throw new EngineError(`engine exited during startup (code ${proc.exitCode ?? proc.signalCode}):\n${this.recentOutput}`);
      }
      if (await this.health()) return;
      await sleep(200);
    }
    throw new EngineError(`engine at ${this.baseUrl} not healthy after ${this.startupTimeoutMs} ms\n${this.recentOutput}`);
  }

  private async start(model: string): Promise<void> {
    const o = this.spawnOptions!;
    const args = ['-m', 'keiko_engine', 'serve', '--model', model, '--host', o.host, '--port', String(o.port)];
    if (o.device) args.push('--device', o.device);
    if (o.threads !== undefined) args.push('--threads', String(o.threads));
    if (o.loraRank) args.push('--lora-rank', String(o.loraRank));
    if (o.loraRank && o.loraAlpha) args.push('--lora-alpha', String(o.loraAlpha));
    if (o.reference) args.push('--reference', o.reference);
    if (o.seed !== undefined) args.push('--seed', String(o.seed));
    args.push(...(o.extraArgs ?? []));
    const proc = spawn(defaultEnginePython(o.python), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env, PYTHONUNBUFFERED: '1' } });
    this.proc = proc;
    // Never leave an orphaned engine behind when this process exits (normally, by error or signal).
    const killOnExit = () => proc.kill('SIGKILL');
    process.once('exit', killOnExit);
    proc.once('exit', () => process.off('exit', killOnExit));
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        this.output.push(line);
        if (this.output.length > 50) this.output.shift();
        o.onOutput?.(line);
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => {
      if (this.proc !== proc || this.stopped) return;
      if (o.restart === false || this.restarts >= (o.maxRestarts ?? 3)) return;
      this.restarts += 1;
      const from = this.lastCheckpoint ?? o.model;
      this.ready = this.start(from).then(() => o.onRestart?.({ restarts: this.restarts, model: from, exitCode: code }));
      this.ready.catch(() => undefined); // surfaced to the next request that awaits it
    });
    await this.waitHealthy();
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
async function killProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function runProcess(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    proc.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, output }));
  });
}
