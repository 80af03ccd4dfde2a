import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ConfigError, EngineError } from '../core/errors.js';
import { waitUntilHealthy } from './http.js';

/** How to start a local engine process (`python -m keiko_engine serve`). Unset fields: the engine's defaults. */
export interface EngineSpawnOptions {
  /** Local Hugging Face model directory. */
  model: string;
  /** Python with keiko_engine installed. Default: `KEIKO_ENGINE_PYTHON`, else the repo's engine/.venv/bin/python. */
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
  /** Most rows one generation pass samples together. */
  maxBatchRows?: number;
  seed?: number;
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
  ];
  if (!isDistributed(options)) return args;
  args.push(...flagArgs([['--dist-timeout', options.distTimeoutS]]));
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    if (proc) await killProcess(proc, isDistributed(this.options));
    await this.start(model);
  }

  /** SIGTERM, then SIGKILL after 5 s. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.proc) await killProcess(this.proc, isDistributed(this.options));
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
    throw new EngineError(`engine at http://${this.options.host}:${this.options.port} not healthy after ${timeout} ms\n${this.recentOutput}`);
  }

  private async launch(model: string): Promise<void> {
    const o = this.options;
    // Under torchrun the ranks are torchrun's children: the engine gets its own process group, and
    // every signal goes to the whole group, so that no rank outlives the launcher (and holds the port).
    const group = isDistributed(o);
    const proc = spawnChild({
      command: defaultEnginePython(o.python),
      args: serveArgs(o, model),
      env: { ...o.env, PYTHONUNBUFFERED: '1' },
      group,
      onLine: (line) => {
        this.output.push(line);
        if (this.output.length > 50) this.output.shift();
        o.onOutput?.(line);
      },
    });
    this.proc = proc;
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

/** How `spawnChild` starts a long-lived child process (an engine, a vLLM server). */
export interface ChildSpawnOptions {
  command: string;
  args: readonly string[];
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Own process group, every signal sent to the whole group (launchers such as torchrun whose children must not outlive them). */
  group?: boolean;
  /** Each non-empty line the child prints (stdout and stderr). */
  onLine?: (line: string) => void;
}

/**
 * The one place keiko spawns its long-lived children (engines, vLLM servers): stdout/stderr read
 * line by line, and the child SIGKILLed (its whole group with `group`) when this process exits, so
 * that none is left orphaned.
 */
export function spawnChild(options: ChildSpawnOptions): ChildProcess {
  const group = options.group ?? false;
  const proc = spawn(options.command, [...options.args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env }, detached: group });
  if (group) proc.kill = (signal?: NodeJS.Signals | number) => signalGroup(proc, signal ?? 'SIGTERM');
  // Never leave an orphaned child behind when this process exits (normally, by error or signal).
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);
  proc.once('exit', () => process.off('exit', killOnExit));
  let partial = { stdout: '', stderr: '' };
  const reader = (which: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const lines = (partial[which] + chunk.toString('utf8')).split('\n');
    partial = { ...partial, [which]: lines.pop() ?? '' };
    for (const line of lines) if (line) options.onLine?.(line);
  };
  proc.stdout?.on('data', reader('stdout'));
  proc.stderr?.on('data', reader('stderr'));
  proc.once('exit', () => {
    for (const rest of [partial.stdout, partial.stderr]) if (rest) options.onLine?.(rest);
  });
  return proc;
}

/** Sends `signal` to the process group led by `proc` (spawned `detached`); false if it is gone. */
function signalGroup(proc: ChildProcess, signal: NodeJS.Signals | number): boolean {
  if (proc.pid === undefined) return false;
  try {
    process.kill(-proc.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
export async function killProcess(proc: ChildProcess, group = false): Promise<void> {
  if (proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  if (group) await reapGroup(proc);
}

/** Waits until no process of `proc`'s group is left (torchrun's ranks can outlive it briefly, holding the port), SIGKILLing them after 5 s. */
async function reapGroup(proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 5000;
  let killed = false;
  while (signalGroup(proc, 0)) {
    if (!killed && Date.now() > deadline) {
      signalGroup(proc, 'SIGKILL');
      killed = true;
    }
    if (Date.now() > deadline + 5000) return;
    await sleep(100);
  }
}

/** Runs a command to completion, collecting stdout and stderr together. */
export async function runProcess(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    proc.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, output }));
  });
}
