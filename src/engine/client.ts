import { existsSync } from 'node:fs';
import { ConfigError, EngineError } from '../core/errors.js';
import type { SamplingArgs } from '../core/sampler.js';
import { EngineHttp, waitUntilHealthy } from './http.js';
import { EngineProcess, defaultEnginePython, flagArgs, freePort, runProcess, type EngineSpawnOptions } from './process.js';
import { EngineSampler } from './sampler.js';
import type { EngineInfo, ExportWeightsResult, ForwardBackwardRequest, ForwardBackwardResult, LoadResult, OptimStepRequest, OptimStepResult, SaveRequest, SaveResult } from './wire.js';

/**
 * The training half of the engine, as the trainer and SFT use it. `EngineClient` is the real one;
 * unit tests pass an in-memory one (`FakeTrainingBackend`).
 */
export interface TrainingBackend {
  info(): Promise<EngineInfo>;
  /**
   * Accumulates gradients. With `optimStep`, the backend may take that step in the same call and
   * report it as `optimStep`; one that does not leaves it undefined and the caller steps.
   */
  forwardBackward(request: ForwardBackwardRequest): Promise<ForwardBackwardResult>;
  optimStep(request: OptimStepRequest): Promise<OptimStepResult>;
  save(request: SaveRequest): Promise<Pick<SaveResult, 'path' | 'step'>>;
  load(request: { path: string }): Promise<LoadResult>;
}

/** Connects to an engine that something else started. */
export interface EngineConnectOptions {
  /** Base URL of the engine, e.g. http://127.0.0.1:8321 (no /v1). */
  url: string;
  startupTimeoutMs?: number;
}

/** Options for `EngineClient.createModel` (`python -m keiko_engine create`); unset: the engine's defaults. */
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
  /** Retries of a failed call (the sampler's default otherwise). */
  maxRetries?: number;
  /** Base seed of the sampler's per-call seeds. */
  seed?: number;
}


/**
 * keiko's Python engine, from TypeScript: starts it (or connects to a running one), offers the typed
 * training calls (`TrainingBackend`) over `EngineHttp`, an OpenAI-compatible `Sampler` over the same
 * weights, and — for an engine it spawned — restarts the process from the last checkpoint if it dies.
 * Training calls made while it is down fail with `EngineError`.
 */
export class EngineClient implements TrainingBackend {
  private lastCheckpoint: string | undefined;

  private constructor(
    private readonly http: EngineHttp,
    private readonly process: EngineProcess | undefined,
    private readonly model: string | undefined,
  ) {}

  /** Spawns `python -m keiko_engine serve` and resolves once /health answers. */
  static async spawn(options: EngineSpawnOptions): Promise<EngineClient> {
    if (!options.model) throw new ConfigError('EngineClient.spawn needs a model directory');
    if (!existsSync(options.model)) throw new ConfigError(`model directory not found: ${options.model}`);
    defaultEnginePython(options.python);
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? (await freePort());
    // the HTTP client waits for the process (restarts included); the process restarts from the client's last checkpoint
    const late: { client?: EngineClient; proc?: EngineProcess } = {};
    const http = new EngineHttp(`http://${host}:${port}`, () => late.proc?.ready() ?? Promise.resolve());
    const proc = new EngineProcess({ ...options, host, port }, () => http.health(), () => late.client?.lastCheckpoint ?? options.model);
    const client = new EngineClient(http, proc, options.model);
    Object.assign(late, { client, proc });
    await proc.start(options.model);
    return client;
  }

  /** Connects to an engine started elsewhere and waits up to `startupTimeoutMs` (30 s) for /health. */
  static async connect(options: EngineConnectOptions): Promise<EngineClient> {
    if (!URL.canParse(options.url)) throw new ConfigError(`invalid engine URL '${options.url}'; expected e.g. http://127.0.0.1:8321`);
    const http = new EngineHttp(options.url.replace(/\/+$/, '').replace(/\/v1$/, ''));
    const timeout = options.startupTimeoutMs ?? 30_000;
    if (!(await waitUntilHealthy(() => http.health(), timeout))) throw new EngineError(`engine at ${http.baseUrl} not healthy after ${timeout} ms`);
    return new EngineClient(http, undefined, undefined);
  }

  /** Creates a tiny random model with a BPE tokenizer trained on `corpus`; resolves to its directory. */
  static async createModel(options: CreateModelOptions): Promise<string> {
    const python = defaultEnginePython(options.python);
    if (!options.corpus.length) throw new ConfigError('createModel needs at least one corpus file');
    const args = [
      ...['-m', 'keiko_engine', 'create', '--out', options.out, '--corpus', ...options.corpus],
      ...flagArgs([
        ['--architecture', options.architecture],
        ['--vocab-size', options.vocabSize],
        ['--hidden', options.hidden],
        ['--layers', options.layers],
        ['--heads', options.heads],
        ['--max-context', options.maxContext],
        ['--seed', options.seed],
      ]),
    ];
    const { code, output } = await runProcess(python, args);
    if (code !== 0) {
      const message = `keiko_engine create failed (exit ${code}): ${output.trim().split('\n').slice(-5).join('\n')}`;
      throw code === 2 ? new ConfigError(message) : new EngineError(message);
    }
    return options.out;
  }

  /** The engine's base URL (no /v1). */
  get url(): string {
    return this.http.baseUrl;
  }

  /** The OpenAI-compatible base URL (`…/v1`), for any OpenAI client. */
  get openaiBaseUrl(): string {
    return `${this.http.baseUrl}/v1`;
  }

  /** The client of the engine's own routes (for the chat tokenizer). */
  get routes(): EngineHttp {
    return this.http;
  }

  /** Last lines the spawned engine printed (for error messages). */
  get recentOutput(): string {
    return this.process?.recentOutput ?? '';
  }

  /** Process id of the spawned engine, if any. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  health(): Promise<boolean> {
    return this.http.health();
  }

  info(): Promise<EngineInfo> {
    return this.http.call('info');
  }

  /** Accumulates gradients for a batch of sequences under a loss; steps too when `optimStep` is given. */
  forwardBackward(request: ForwardBackwardRequest): Promise<ForwardBackwardResult> {
    if (request.sequences.length === 0) return Promise.reject(new ConfigError('forwardBackward needs at least one sequence'));
    return this.http.call('forwardBackward', request);
  }

  /** One AdamW step with the accumulated gradients; `skipped` when they were non-finite. */
  optimStep(request: OptimStepRequest): Promise<OptimStepResult> {
    return this.http.call('optimStep', request);
  }

  /** Writes an atomic Hugging Face checkpoint (weights, tokenizer, trainer_state). */
  async save(request: SaveRequest): Promise<SaveResult> {
    const res = await this.http.call('save', request);
    if (!request.mergedLora) this.lastCheckpoint = res.path;
    return res;
  }

  /** Loads weights (and optimizer state, step) from a checkpoint directory. */
  async load(request: { path: string }): Promise<LoadResult> {
    const res = await this.http.call('load', request);
    this.lastCheckpoint = res.path;
    return res;
  }

  /**
   * Writes a sync checkpoint for inference servers at `path` (atomically): full weights in
   * safetensors, LoRA merged, `lm_head.weight` explicit even when tied (engine/API.md).
   */
  exportWeights(request: { path: string }): Promise<ExportWeightsResult> {
    return this.http.call('exportWeights', request);
  }

  /** A `Sampler` over the engine's OpenAI-compatible API that returns token ids and logprobs (and batches with `chatMany`). */
  sampler(options: EngineSamplerOptions = {}): EngineSampler {
    return new EngineSampler({
      model: 'keiko-engine',
      baseUrl: this.openaiBaseUrl,
      apiKey: 'none',
      defaultSampling: { returnTokens: true, ...options.defaultSampling },
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.maxRetries !== undefined ? { retry: { maxRetries: options.maxRetries } } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    });
  }

  /**
   * Stops the spawned engine if it still runs and starts it again on the same URL from `model`
   * (default: the model it was spawned with, not the last checkpoint), resolving once healthy. For
   * callers that reload their own checkpoint after a crash (spawn them with `restart: false`).
   * Connected clients cannot restart.
   */
  async restart(options: { model?: string } = {}): Promise<void> {
    if (!this.process || !this.model) throw new ConfigError('restart() needs an engine this client spawned, not one it connected to');
    await this.process.restart(options.model ?? this.model);
  }

  /** Stops the spawned process (SIGTERM, then SIGKILL after 5 s). A connected client just forgets the URL. */
  async stop(): Promise<void> {
    await this.process?.stop();
  }
}
