import { spawn, type ChildProcess } from 'node:child_process';
import { spawnChild, stopChild } from './child-process.js';
import { createServer } from 'node:net';
import { EngineError } from '../core/errors.js';
import { defaultEnginePython, engineProcessEnv } from './engine-home.js';
import { waitUntilHealthy } from './http.js';

export { defaultEnginePython } from './engine-home.js';

/** How to start a local engine process (`python -m keiko_engine serve`). Unset fields: the engine's defaults. */
export interface EngineSpawnOptions {
  /** Local Hugging Face model directory. */
  model: string;
  /** Python with keiko_engine installed. Default: see `chooseEnginePython` (`KEIKO_ENGINE_PYTHON`, `KEIKO_ENGINE_VENV`, a clone's engine/.venv, the per-user venv of `keiko setup`). */
  python?: string;
  host?: string;
  /** Port; default: a free port chosen by the OS. */
  port?: number;
  device?: 'auto' | 'cpu' | 'cuda';
  /** Weights dtype: float32, or bfloat16 autocast on a GPU. */
  dtype?: 'auto' | 'float32' | 'bfloat16';
  /** torch CPU threads. */
  threads?: number;
  /** > 0: train LoRA adapters of this rank. */
  loraRank?: number;
  /** LoRA alpha (only with `loraRank`). */
  loraAlpha?: number;
  /** KL reference: 'auto' (copy of the loaded weights), 'none', or a model directory. */
  reference?: string;
  /** Sequences per forward/backward chunk when a request does not say. */
  microBatchSize?: number;
  /** Recompute each decoder layer in the backward instead of keeping its activations (less memory, more compute). */
  activationCheckpointing?: boolean;
  /** Several ranks: each rank saves its own shards of the optimizer state instead of gathering them to rank 0. */
  shardedOptimizer?: boolean;
  /** Most rows one generation pass samples together. */
  maxBatchRows?: number;
  seed?: number;
  /**
   * Folders the engine may save checkpoints into and load them from (its `--checkpoint-root`);
   * default: the engine's working directory. It may also load from `model` and `reference`.
   */
  checkpointRoots?: string[];
  /**
   * Processes that train the model, sharded with FSDP2 (default 1: one process that samples and
   * trains). > 1 launches `python -m torch.distributed.run --nproc_per_node N ... -m keiko_engine serve`:
   * rank 0 serves HTTP, the engine trains only (its sampling routes answer 400 `sampling_unavailable`).
   */
  ranks?: number;
  /** Multi-node training (with `ranks` per node): torchrun's static rendezvous, passed through. */
  nodes?: { count: number; rank: number; masterAddr: string; masterPort: number };
  /** Seconds any collective between ranks may wait before the engine exits (engine default 600). */
  distTimeoutS?: number;
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

/** `--flag value` pairs for the flags that are set (unset ones keep the engine's defaults). */
export function flagArgs(flags: readonly (readonly [string, string | number | undefined])[]): string[] {
  return flags.flatMap(([flag, value]) => (value === undefined ? [] : [flag, String(value)]));
}

/** The `serve` command line for `options` (only the flags that are set: the engine owns the defaults). */
export function serveArgs(options: EngineSpawnOptions & { host: string; port: number }, model: string): string[] {
  const args = [
    ...['-m', 'keiko_engine', 'serve', '--model', model, '--host', options.host, '--port', String(options.port)],
    ...flagArgs([
      ['--device', options.device],
      ['--dtype', options.dtype],
      ['--threads', options.threads],
      ['--lora-rank', options.loraRank],
      ['--lora-alpha', options.loraRank ? options.loraAlpha : undefined],
      ['--reference', options.reference],
      ['--micro-batch-size', options.microBatchSize],
      ['--max-batch-rows', options.maxBatchRows],
      ['--seed', options.seed],
    ]),
    ...(options.activationCheckpointing ? ['--activation-checkpointing'] : []),
    ...(options.checkpointRoots ?? []).flatMap((dir) => ['--checkpoint-root', dir]),
  ];
  if (!isDistributed(options)) return args;
  args.push(...flagArgs([['--dist-timeout', options.distTimeoutS]]), ...(options.shardedOptimizer ? ['--sharded-optimizer'] : []));
  const n = options.nodes;
  const rendezvous = n
    ? ['--nnodes', String(n.count), '--node_rank', String(n.rank), '--master_addr', n.masterAddr, '--master_port', String(n.masterPort)]
    : ['--standalone'];
  return ['-m', 'torch.distributed.run', ...rendezvous, '--nproc_per_node', String(options.ranks ?? 1), ...args];
}

/** Whether `options` start the engine under torchrun (more than one rank, or several nodes). */
export function isDistributed(options: Pick<EngineSpawnOptions, 'ranks' | 'nodes'>): boolean {
  return (options.ranks ?? 1) > 1 || (options.nodes?.count ?? 1) > 1;
}

/**
 * Supervises one `keiko_engine serve` process: starts it, waits until `health()` says yes, keeps its
 * last output lines, restarts it when it dies (from `restartFrom()`, the last checkpoint), and
 * stops it. Knows nothing of the HTTP API beyond the health probe it is given.
 */
export class EngineProcess {
  private proc: ChildProcess | undefined;
  private stopped = false;
  private restarts = 0;
  private readyPromise: Promise<void> = Promise.resolve();
  private readonly output: string[] = [];

  constructor(
    private readonly options: EngineSpawnOptions & { host: string; port: number },
    private readonly health: () => Promise<boolean>,
    /** The model directory a crashed engine restarts from. */
    private readonly restartFrom: () => string,
  ) {}

  /** Resolves once the process is healthy (after a start or an automatic restart). */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** The last lines the engine printed (for error messages). */
  get recentOutput(): string {
    return this.output.join('\n');
  }

  /** Starts the engine on `model`, resolving once healthy. */
  async start(model: string): Promise<void> {
    this.readyPromise = this.launch(model);
    await this.readyPromise;
  }

  /** Stops the process if it still runs and starts it again from `model`. */
  async restart(model: string): Promise<void> {
    if (this.stopped) throw new EngineError('engine client was stopped');
    await this.readyPromise.catch(() => undefined); // let an automatic restart in flight settle first
    const proc = this.proc;
    this.proc = undefined; // its exit is ours, not a crash to restart from
    if (proc) await stopChild(proc);
    await this.start(model);
  }

  /** SIGTERM, then SIGKILL after 5 s. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.proc) await stopChild(this.proc);
  }

  private async waitHealthy(): Promise<void> {
    const timeout = this.options.startupTimeoutMs ?? 120_000;
    const healthy = await waitUntilHealthy(this.health, timeout, () => {
      if (this.stopped) throw new EngineError('engine stopped while starting');
      const proc = this.proc;
      if (proc && (proc.exitCode !== null || proc.signalCode !== null)) {
        throw new EngineError(`engine exited during startup (code ${proc.exitCode ?? proc.signalCode}):\n${this.recentOutput}`);
      }
    });
    if (healthy) return;
    // Never leave a process behind that the caller was told did not start.
    const proc = this.proc;
    this.proc = undefined; // its exit is ours, not a crash to restart from
    if (proc) await stopChild(proc);
    throw new EngineError(`engine at http://${this.options.host}:${this.options.port} not healthy after ${timeout} ms (stopped it)\n${this.recentOutput}`);
  }

  private async launch(model: string): Promise<void> {
    const o = this.options;
    // Its own process group (a terminal's Ctrl-C reaches only keiko) and a lifeline on stdin (it
    // exits when keiko dies, even by SIGKILL): see child-process.ts.
    const proc = spawnChild(defaultEnginePython(o.python), serveArgs(o, model), { env: engineProcessEnv({ ...process.env, ...o.env, PYTHONUNBUFFERED: '1' }) });
    this.proc = proc;
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
      const from = this.restartFrom();
      this.readyPromise = this.launch(from).then(() => o.onRestart?.({ restarts: this.restarts, model: from, exitCode: code }));
      this.readyPromise.catch(() => undefined); // surfaced to the next request that awaits it
    });
    await this.waitHealthy();
  }
}

/** Runs a command to completion (with keiko's engine sources on `PYTHONPATH`), collecting stdout and stderr together. */
export async function runProcess(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: engineProcessEnv() });
    let output = '';
    proc.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    proc.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, output }));
  });
}
