import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

/**
 * The one way keiko starts a long-lived child (the engine, a vLLM server, a test server), so that
 * signals and deaths behave the same for all of them:
 *
 * - **Own process group.** A terminal's Ctrl-C goes to the whole foreground process group; a child
 *   in its own group does not get it, so keiko alone decides when the child stops (after the
 *   current step is finished and saved). Every signal keiko sends goes to the child's whole group,
 *   so grandchildren (torchrun's ranks, a server's workers) stop with it.
 * - **A lifeline.** The child's stdin is a pipe keiko never writes to and never closes. When keiko
 *   dies — even by SIGKILL, when no handler runs — the kernel closes it and the child reads EOF.
 *   Children that know the protocol (`KEIKO_LIFELINE=stdin` in their environment: keiko's engine
 *   and test server) exit then; keiko's engine also sets a parent-death signal (Linux `prctl`).
 * - **Killed on exit.** When keiko exits normally or by `process.exit`, the group gets SIGKILL.
 */
export interface ChildOptions {
  /** Extra environment variables (added to keiko's own). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Where stdout and stderr go: 'pipe' (default; read `proc.stdout`/`proc.stderr`) or 'inherit'. */
  output?: 'pipe' | 'inherit';
  /** Give the child a lifeline on stdin (default true). False leaves stdin closed ('ignore'). */
  lifeline?: boolean;
}

/** Environment variable telling a child that stdin is its lifeline to keiko. */
export const LIFELINE_ENV = 'KEIKO_LIFELINE';
/** Environment variable holding keiko's pid, so a child can check that its parent is still keiko. */
export const PARENT_PID_ENV = 'KEIKO_PARENT_PID';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killAllOnExit(): void {
  for (const proc of live) signalChild(proc, 'SIGKILL');
}

/** Starts `command args` as a supervised child (see the module comment). `proc.kill` signals its whole process group. */
export function spawnChild(command: string, args: readonly string[], options: ChildOptions = {}): ChildProcess {
  const lifeline = options.lifeline ?? true;
  const out = options.output ?? 'pipe';
  const stdio: StdioOptions = [lifeline ? 'pipe' : 'ignore', out, out];
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (lifeline) {
    env[LIFELINE_ENV] = 'stdin';
    env[PARENT_PID_ENV] = String(process.pid);
  } else {
    delete env[LIFELINE_ENV];
    delete env[PARENT_PID_ENV];
  }
  const proc = spawn(command, args, { stdio, env, detached: true, ...(options.cwd ? { cwd: options.cwd } : {}) });
  // A write to a child that exited must not crash keiko (nothing is written, but be safe).
  proc.stdin?.on('error', () => undefined);
  proc.kill = (signal?: NodeJS.Signals | number) => signalChild(proc, signal ?? 'SIGTERM');
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  proc.once('error', () => live.delete(proc));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', killAllOnExit);
  }
  return proc;
}

/** Sends `signal` to the process group led by `proc`; false if the group is gone. */
export function signalChild(proc: ChildProcess, signal: NodeJS.Signals | number): boolean {
  if (proc.pid === undefined) return false;
  try {
    process.kill(-proc.pid, signal);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops a child started by `spawnChild`: SIGTERM to its group, SIGKILL after `graceMs` (default
 * 5 s); resolves once the child and every process of its group have exited.
 */
export async function stopChild(proc: ChildProcess, graceMs = 5000): Promise<void> {
  if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    signalChild(proc, 'SIGTERM');
    const timer = setTimeout(() => signalChild(proc, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  // Grandchildren (torchrun's ranks) can outlive the leader briefly, holding a port.
  const deadline = Date.now() + graceMs;
  let killed = false;
  while (signalChild(proc, 0)) {
    if (!killed && Date.now() > deadline) {
      signalChild(proc, 'SIGKILL');
      killed = true;
    }
    if (Date.now() > deadline + 5000) return;
    await sleep(50);
  }
}

/** Calls `onLine` with each non-empty line `proc` prints (stdout and stderr, a partial last line at exit). */
export function onLines(proc: ChildProcess, onLine: (line: string) => void): void {
  const partial = { stdout: '', stderr: '' };
  const reader = (which: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const lines = (partial[which] + chunk.toString('utf8')).split('\n');
    partial[which] = lines.pop() ?? '';
    for (const line of lines) if (line) onLine(line);
  };
  proc.stdout?.on('data', reader('stdout'));
  proc.stderr?.on('data', reader('stderr'));
  proc.once('exit', () => {
    for (const rest of [partial.stdout, partial.stderr]) if (rest) onLine(rest);
  });
}
