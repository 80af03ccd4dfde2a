import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../core/errors.js';

/** The repository's engine virtualenv python (override with KEIKO_PYTHON). */
export function enginePython(): string {
  if (process.env['KEIKO_PYTHON']) return process.env['KEIKO_PYTHON'];
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const venv = join(root, 'engine', '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => res(port));
    });
  });
}

/** Runs `python -m keiko_engine <args>` to completion; rejects with its stderr on failure. */
export async function runEngineCommand(args: readonly string[], options: { threads?: number } = {}): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawn(enginePython(), ['-m', 'keiko_engine', ...args], { env: engineEnv(options.threads ?? 1), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => rej(new EngineError(`cannot run the engine (${enginePython()}): ${e.message}; run scripts/setup.sh`, { cause: e })));
    child.on('close', (code) => (code === 0 ? res(out) : rej(new EngineError(`keiko_engine ${args[0]} failed (exit ${code}): ${err.trim().split('\n').slice(-5).join('\n')}`))));
  });
}

function engineEnv(threads: number): NodeJS.ProcessEnv {
  return { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), TOKENIZERS_PARALLELISM: 'false', PYTHONUNBUFFERED: '1' };
}

/** Options for `EngineProcess.start`. */
export interface EngineProcessOptions {
  model: string;
  threads?: number;
  device?: 'auto' | 'cpu' | 'cuda';
  port?: number;
  loraRank?: number;
  loraAlpha?: number;
  /** KL reference: 'auto' keeps a frozen copy of the loaded weights; 'none' saves memory when klBeta = 0. */
  reference?: 'auto' | 'none';
  seed?: number;
  startTimeoutMs?: number;
}

/**
 * A spawned engine (`python -m keiko_engine serve`) on a free local port. `restart()` starts a
 * fresh process with the same options (used when the engine dies mid-run).
 */
export class EngineProcess {
  readonly options: EngineProcessOptions;
  baseUrl = '';
  private child: ChildProcess | undefined;
  private stderrTail = '';

  private constructor(options: EngineProcessOptions) {
    this.options = options;
  }

  static async start(options: EngineProcessOptions): Promise<EngineProcess> {
    const engine = new EngineProcess(options);
    await engine.launch();
    return engine;
  }

  /** The OS process id, for tests that kill it. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((res) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        res();
      });
      child.kill('SIGTERM');
    });
  }

  private async launch(): Promise<void> {
    const o = this.options;
    const port = o.port ?? (await freePort());
    const args = ['-m', 'keiko_engine', 'serve', '--model', o.model, '--port', String(port), '--threads', String(o.threads ?? 1), '--device', o.device ?? 'auto', '--reference', o.reference ?? 'auto', '--seed', String(o.seed ?? 0)];
    if (o.loraRank) args.push('--lora-rank', String(o.loraRank));
    if (o.loraRank && o.loraAlpha) args.push('--lora-alpha', String(o.loraAlpha));
    const child = spawn(enginePython(), args, { env: engineEnv(o.threads ?? 1), stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    // Never leave an orphaned engine behind when keiko exits (normally, by error or by signal).
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    this.stderrTail = '';
    child.stderr?.on('data', (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString()).slice(-4000)));
    this.baseUrl = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + (o.startTimeoutMs ?? 180_000);
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new EngineError(`engine exited with code ${child.exitCode} while starting: ${this.stderrTail.trim().split('\n').slice(-5).join('\n')}`);
      try {
        const r = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
        if (r.ok) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await this.stop();
    throw new EngineError(`engine did not become healthy within ${(o.startTimeoutMs ?? 180_000) / 1000}s`);
  }
}
