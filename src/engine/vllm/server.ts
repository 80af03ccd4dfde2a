import type { ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, SamplerError } from '../../core/errors.js';
import { waitUntilHealthy } from '../http.js';
import { flagArgs, freePort } from '../process.js';
import { onLines, spawnChild, stopChild } from '../child-process.js';

/** The virtualenv `keiko vllm setup` installs into: `KEIKO_VLLM_VENV`, else `~/.cache/keiko/vllm-venv`. */
export function defaultVllmVenv(): string {
  return process.env.KEIKO_VLLM_VENV ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'keiko', 'vllm-venv');
}

/** The Python with vLLM installed: explicit, else the venv of `keiko vllm setup`. */
export function defaultVllmPython(explicit?: string): string {
  const python = explicit || join(defaultVllmVenv(), 'bin', 'python');
  if (!existsSync(python)) {
    throw new ConfigError(`no Python with vLLM at ${python}; run 'keiko vllm setup' (or set vllm.python / KEIKO_VLLM_VENV)`);
  }
  return python;
}

/** How to start one vLLM OpenAI-compatible server on a local model directory. */
export interface VllmServerOptions {
  /** Hugging Face model directory (its tokenizer and chat template are the engine's). */
  model: string;
  /** Python with vLLM installed (default: `defaultVllmPython()`). */
  python?: string;
  host?: string;
  /** Port; default: a free one chosen by the OS. */
  port?: number;
  /** Name the server answers to (`model` of requests). Default 'keiko-policy'. */
  servedModelName?: string;
  /** `--dtype`: 'auto' (vLLM's choice), 'float32' (exact logprobs on CPU), 'bfloat16'... Default 'auto'. */
  dtype?: string;
  seed?: number;
  /** Longest context (`--max-model-len`); default: the model's. */
  maxModelLen?: number;
  /** More vLLM flags, passed as they are (e.g. `--gpu-memory-utilization 0.8`). */
  extraArgs?: readonly string[];
  /** More environment variables (e.g. CUDA_VISIBLE_DEVICES, VLLM_CPU_KVCACHE_SPACE). */
  env?: Record<string, string>;
  /** The server's stdout/stderr go here (appended). Default: kept only in `recentOutput`. */
  logFile?: string;
  /** How long to wait for /health after a (re)start. Default 600 s (vLLM's CPU build takes 60-90 s). */
  startupTimeoutMs?: number;
}

/** The command line of `python -m vllm.entrypoints.openai.api_server` for `options` (only flags that are set). */
export function vllmServeArgs(options: VllmServerOptions & { host: string; port: number }): string[] {
  return [
    ...['-m', 'vllm.entrypoints.openai.api_server', '--model', options.model, '--host', options.host, '--port', String(options.port)],
    ...['--served-model-name', options.servedModelName ?? 'keiko-policy'],
    ...flagArgs([
      ['--dtype', options.dtype],
      ['--seed', options.seed],
      ['--max-model-len', options.maxModelLen],
    ]),
    ...(options.extraArgs ?? []),
  ];
}

/**
 * The environment a vLLM server runs with: internal sockets on loopback, the dev-mode routes keiko's
 * weight sync uses (`/collective_rpc`, `/pause`, `/resume`, `/reset_prefix_cache`), runtime LoRA
 * loading, and on CPU a 1 GiB KV cache unless set.
 */
export function vllmEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    VLLM_HOST_IP: '127.0.0.1',
    VLLM_SERVER_DEV_MODE: '1',
    VLLM_ALLOW_RUNTIME_LORA_UPDATING: 'True',
    VLLM_CPU_KVCACHE_SPACE: process.env.VLLM_CPU_KVCACHE_SPACE ?? '1',
    VLLM_NO_USAGE_STATS: '1',
    DO_NOT_TRACK: '1',
    HF_HUB_OFFLINE: '1',
    PYTHONUNBUFFERED: '1',
    ...extra,
  };
}

/**
 * One vLLM server process keiko started: spawned through `spawnChild` (engine/process.ts), output
 * to `logFile`, healthy once `GET /health` answers. It does not restart itself: the fleet decides
 * (it must reload the current weights before the server samples again).
 */
export class VllmServer {
  private proc: ChildProcess | undefined;
  private readonly output: string[] = [];
  private log: WriteStream | undefined;
  private stopping = false;
  readonly url: string;

  private constructor(
    private readonly options: VllmServerOptions & { host: string; port: number },
    /** Called when the process exits without `stop()` (the fleet restarts it). */
    private readonly onDeath: (info: { code: number | null; signal: string | null }) => void,
  ) {
    this.url = `http://${options.host}:${options.port}`;
  }

  /** Starts a server and resolves once it is healthy. */
  static async start(options: VllmServerOptions, onDeath: (info: { code: number | null; signal: string | null }) => void = () => {}): Promise<VllmServer> {
    if (!existsSync(join(options.model, 'config.json'))) throw new ConfigError(`vLLM model '${options.model}' is not a Hugging Face model directory (no config.json)`);
    defaultVllmPython(options.python);
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? (await freePort());
    const server = new VllmServer({ ...options, host, port }, onDeath);
    await server.launch();
    return server;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** The last lines the server printed. */
  get recentOutput(): string {
    return this.output.join('\n');
  }

  /** Whether the process is running. */
  get alive(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Stops the process if it runs and starts it again on the same port; resolves once healthy. */
  async restart(): Promise<void> {
    if (this.proc && this.alive) {
      this.stopping = true;
      await stopChild(this.proc);
      this.stopping = false;
    }
    await this.launch();
  }

  /** SIGTERM, then SIGKILL after 5 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.proc) await stopChild(this.proc);
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
    this.log = undefined;
  }

  private async launch(): Promise<void> {
    const o = this.options;
    if (o.logFile && !this.log) {
      mkdirSync(dirname(o.logFile), { recursive: true });
      this.log = createWriteStream(o.logFile, { flags: 'a' });
    }
    this.log?.write(`==> keiko: starting vLLM on ${this.url} (${new Date().toISOString()})\n`);
    // its own process group: vLLM's engine-core processes are its children, and stop with it
    const proc = spawnChild(defaultVllmPython(o.python), vllmServeArgs(o), { env: vllmEnv(o.env) });
    onLines(proc, (line) => {
      this.output.push(line);
      if (this.output.length > 60) this.output.shift();
      this.log?.write(`${line}\n`);
    });
    this.proc = proc;
    proc.once('exit', (code, signal) => {
      this.log?.write(`==> keiko: vLLM exited (code ${code}, signal ${signal})\n`);
      if (this.proc === proc && !this.stopping) this.onDeath({ code, signal });
    });
    const timeout = o.startupTimeoutMs ?? 600_000;
    const healthy = await waitUntilHealthy(() => vllmHealth(this.url), timeout, () => {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new SamplerError(`vLLM server exited during startup (code ${proc.exitCode ?? proc.signalCode}):\n${this.recentOutput}`, { retryable: false });
      }
    });
    if (!healthy) {
      await stopChild(proc);
      throw new SamplerError(`vLLM server at ${this.url} not healthy after ${timeout} ms\n${this.recentOutput}`, { retryable: false });
    }
  }
}

/** Whether a vLLM server's `GET /health` answers 200 within 2 s. */
export async function vllmHealth(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}
