import { spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { ConfigError, KeikoError } from '../core/index.js';

/**
 * A sandbox for model-written programs, on Linux, built on bubblewrap (`bwrap`, Debian package
 * `bubblewrap`) plus kernel resource limits (`prlimit`, and `setpriv` from util-linux).
 *
 * Each run gets: new user, PID, network, IPC, UTS and cgroup namespaces (no network at all, only a
 * private loopback; no view of the host's processes); a root file system that holds only
 * read-only system directories (`/usr` and its `/bin`, `/lib*` links, a few files of `/etc`) and
 * the interpreter; its workspace, the only writable place, at `/sandbox` (also `/tmp`); a fresh
 * random user id when keiko runs as root (so the process limit counts only this run's processes
 * and no host file is writable through ownership); and limits on CPU seconds, address space,
 * processes, file size, open files, wall time and captured output. A run that breaks a limit is
 * killed and its outcome says which limit; nothing is thrown for what the program does.
 *
 * What it does not protect against (see docs/sandbox.md): kernel exploits (no seccomp filter),
 * filling the disk with many files below the per-file limit, CPU contention with other work,
 * and side channels.
 */

/** Limits of one run. Defaults: `DEFAULT_LIMITS`. */
export interface SandboxLimits {
  /** CPU seconds (RLIMIT_CPU): SIGXCPU at the limit, SIGKILL one second later. */
  cpuSeconds: number;
  /** Wall-clock milliseconds before the whole sandbox is killed. */
  wallMs: number;
  /** Address space in bytes (RLIMIT_AS). Node needs about 1 GiB of address space to start. */
  memoryBytes: number;
  /** Processes and threads of the run's user (RLIMIT_NPROC; exact only when keiko runs as root, see docs). */
  processes: number;
  /** Bytes captured per stream (stdout, stderr); past it the run is killed with outcome `output_limit`. */
  outputBytes: number;
  /** Largest file the program may write (RLIMIT_FSIZE). */
  fileBytes: number;
  /** Open file descriptors (RLIMIT_NOFILE). */
  openFiles: number;
}

export const DEFAULT_LIMITS: Readonly<SandboxLimits> = {
  cpuSeconds: 5,
  wallMs: 10_000,
  memoryBytes: 1024 * 2 ** 20,
  processes: 64,
  outputBytes: 64 * 1024,
  fileBytes: 16 * 2 ** 20,
  openFiles: 256,
};

/** How a run ended. `ok`/`error` are the program's own exit (0 / non-zero); the rest are limits. */
export type SandboxOutcome = 'ok' | 'error' | 'timeout' | 'cpu_limit' | 'memory_limit' | 'output_limit' | 'killed';

/** The record of one sandboxed run, safe to store on a rollout. */
export interface SandboxResult {
  outcome: SandboxOutcome;
  exitCode: number | null;
  /** The signal that ended the program, when one did (e.g. SIGXCPU, SIGKILL). */
  signal: string | null;
  stdout: string;
  stderr: string;
  /** True when stdout or stderr was cut at `outputBytes`. */
  truncated: boolean;
  wallMs: number;
}

/** The sandbox cannot run on this machine (no bwrap, no user namespaces, …): never a silent fallback. */
export class SandboxUnavailableError extends KeikoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('sandbox_unavailable', message, options);
  }
}

/** Languages `runCode` knows: how a source file is named and run inside the sandbox. */
export type Language = 'python' | 'javascript' | 'typescript';

/**
 * A private directory a program runs in, mounted at `/sandbox`. Keep one per rollout for
 * multi-turn work; the host reads files back through `read`, which refuses symlinks and paths
 * leaving the workspace (a program could otherwise point a link at a host file).
 */
export class Workspace {
  constructor(
    /** Host path of the directory. */
    readonly path: string,
    private readonly uid: number | undefined,
  ) {}

  /** Writes files (relative paths, created with their folders), owned by the run's user. */
  write(files: Record<string, string>): void {
    for (const [name, content] of Object.entries(files)) {
      const target = this.resolve(name);
      mkdirSync(dirname(target), { recursive: true });
      if (existsSync(target) && lstatSync(target).isSymbolicLink()) rmSync(target);
      writeFileSync(target, content);
      if (this.uid !== undefined) this.chownUp(target);
    }
  }

  /** A file's text, or undefined when it is missing, not a regular file, or a symlink. */
  read(name: string, maxBytes = 1 << 20): string | undefined {
    const target = this.resolve(name);
    let st;
    try {
      st = lstatSync(target);
    } catch {
      return undefined;
    }
    if (!st.isFile() || st.size > maxBytes) return undefined;
    // Every folder on the way must be a real folder too (a linked folder leads out of the workspace).
    if (realpathSync(dirname(target)) !== dirname(target)) return undefined;
    return readFileSync(target, 'utf8');
  }

  /** Relative paths of the regular files in the workspace (symlinks and the tmp folder left out). */
  list(): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const full = join(dir, e.name);
        if (e.isDirectory() && !(dir === this.path && e.name === '.tmp')) walk(full);
        else if (e.isFile()) out.push(relative(this.path, full));
      }
    };
    walk(this.path);
    return out.sort();
  }

  /** Deletes the workspace. */
  dispose(): void {
    rmSync(this.path, { recursive: true, force: true });
  }

  private resolve(name: string): string {
    const clean = normalize(name);
    if (isAbsolute(clean) || clean === '..' || clean.startsWith(`..${sep}`) || clean === '.' || clean === '') {
      throw new ConfigError(`workspace path '${name}' must be relative and stay inside the workspace`);
    }
    return join(this.path, clean);
  }

  private chownUp(target: string): void {
    for (let p = target; p !== this.path && p.startsWith(this.path); p = dirname(p)) chownSync(p, this.uid!, this.uid!);
  }
}

export interface SandboxOptions {
  /** Default limits of every run (each run may override). */
  limits?: Partial<SandboxLimits>;
  /** Where workspaces are created. Default: the OS temp dir. */
  root?: string;
  /** Host paths to mount read-only at the same place (an interpreter outside /usr, a package folder). */
  readOnly?: readonly string[];
  /**
   * Interpreter commands. Default: python → `/usr/bin/python3` (else `python3` on PATH),
   * javascript/typescript → this Node (`process.execPath`). They must be readable by every user.
   */
  interpreters?: Partial<Record<'python' | 'node', string>>;
  /** The bwrap binary. Default: `bwrap` on PATH. */
  bwrap?: string;
}

/** Options of one run. */
export interface SandboxRunOptions {
  /** The program and its arguments, as seen inside the sandbox (absolute, or found on /usr/bin:/bin). */
  command: readonly string[];
  /** Where it runs. Default: a fresh workspace, deleted afterwards. */
  workspace?: Workspace;
  /** Files written into the workspace before the run. */
  files?: Record<string, string>;
  stdin?: string;
  limits?: Partial<SandboxLimits>;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

const SYSTEM_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
const ETC_FILES = ['/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/alternatives', '/etc/localtime', '/etc/nsswitch.conf', '/etc/passwd', '/etc/group'];

/**
 * Runs programs in bubblewrap sandboxes. Create it with `Sandbox.create()` (which checks, once,
 * that isolation works here and throws `SandboxUnavailableError` with the fix when it does not);
 * every `run` is independent, so runs may go concurrently.
 */
export class Sandbox {
  readonly limits: Readonly<SandboxLimits>;
  private readonly root: string;
  private readonly bwrap: string;
  private readonly asRoot: boolean;
  private readonly mounts: readonly string[];
  private readonly setpriv: string | undefined;
  /** The read-only file-system arguments, the same for every run (computed once). */
  private readonly fsArgs: readonly string[];
  readonly interpreters: Readonly<Record<'python' | 'node', string>>;

  private constructor(options: SandboxOptions, bwrap: string, interpreters: Record<'python' | 'node', string>, mounts: string[]) {
    this.limits = checkLimits({ ...DEFAULT_LIMITS, ...options.limits });
    this.root = options.root ?? tmpdir();
    this.bwrap = bwrap;
    this.asRoot = process.getuid?.() === 0;
    this.interpreters = interpreters;
    this.mounts = mounts;
    this.setpriv = this.asRoot ? which('setpriv') : undefined;
    this.fsArgs = this.systemMounts();
  }

  /** Checks that bwrap, prlimit (and setpriv as root) exist and that a sandboxed `true` runs. */
  static async create(options: SandboxOptions = {}): Promise<Sandbox> {
    if (process.platform !== 'linux') throw new SandboxUnavailableError(`the sandbox needs Linux (bubblewrap and namespaces); this is ${process.platform}`);
    const bwrap = which(options.bwrap ?? 'bwrap');
    if (!bwrap) throw new SandboxUnavailableError(`bubblewrap ('${options.bwrap ?? 'bwrap'}') is not installed; install it with 'apt-get install bubblewrap' (Debian/Ubuntu) or 'dnf install bubblewrap'`);
    for (const tool of ['prlimit', ...(process.getuid?.() === 0 ? ['setpriv'] : [])]) {
      if (!which(tool)) throw new SandboxUnavailableError(`'${tool}' (util-linux) is not installed; install it with 'apt-get install util-linux'`);
    }
    // The system Python by default: shims such as pyenv's live in a home folder other users cannot read.
    const python = which(options.interpreters?.python ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3')) ?? '/usr/bin/python3';
    const node = options.interpreters?.node ?? process.execPath;
    // Interpreters outside /usr need their install prefix mounted (e.g. /opt/node/bin/node → /opt/node).
    const mounts = [...(options.readOnly ?? [])];
    for (const bin of [python, node]) {
      const real = existsSync(bin) ? realpathSync(bin) : bin;
      if (!real.startsWith('/usr/')) mounts.push(dirname(dirname(real)));
    }
    const sandbox = new Sandbox(options, bwrap, { python, node }, [...new Set(mounts)]);
    const probe = await sandbox.run({ command: ['/bin/sh', '-c', 'echo ok'], limits: { wallMs: 15_000 } });
    if (probe.outcome !== 'ok' || probe.stdout.trim() !== 'ok') {
      throw new SandboxUnavailableError(
        `bubblewrap is installed but could not create a sandbox (${probe.outcome}, exit ${String(probe.exitCode)}): ${probe.stderr.trim().slice(0, 400) || '(no message)'}. ` +
          'User namespaces must be allowed: on Debian/Ubuntu hosts `sysctl -w kernel.unprivileged_userns_clone=1` (and on Ubuntu ≥ 23.10 `kernel.apparmor_restrict_unprivileged_userns=0`); in Docker run the container with `--security-opt seccomp=unconfined --security-opt apparmor=unconfined` or `--privileged`',
      );
    }
    return sandbox;
  }

  /** A fresh private workspace (a new directory under `root`), optionally with files. */
  workspace(files: Record<string, string> = {}): Workspace {
    const path = mkdtempSync(join(this.root, 'keiko-sandbox-'));
    const uid = this.asRoot ? randomInt(1_000_000, 2_000_000_000) : undefined;
    mkdirSync(join(path, '.tmp'));
    if (uid !== undefined) {
      chownSync(path, uid, uid);
      chownSync(join(path, '.tmp'), uid, uid);
    }
    const ws = new Workspace(path, uid);
    ws.write(files);
    return ws;
  }

  /** Runs one command in the sandbox. Never throws for what the program does; see `SandboxResult.outcome`. */
  async run(options: SandboxRunOptions): Promise<SandboxResult> {
    if (!Array.isArray(options.command) || options.command.length === 0) throw new ConfigError('sandbox run needs a command (an array of program and arguments)');
    const limits = checkLimits({ ...this.limits, ...options.limits });
    const own = options.workspace === undefined;
    const ws = options.workspace ?? this.workspace();
    try {
      if (options.files) ws.write(options.files);
      return await this.spawnRun(ws, options, limits);
    } finally {
      if (own) ws.dispose();
    }
  }

  /**
   * Runs source code: writes it to `main.py` or `main.js` (CommonJS, so `require` works;
   * TypeScript is transpiled on the host first, with the `typescript` package) and runs it with
   * the language's interpreter.
   */
  async runCode(options: Omit<SandboxRunOptions, 'command'> & { language: Language; code: string; args?: readonly string[] }): Promise<SandboxResult> {
    const { language, code, args = [], ...rest } = options;
    const { file, source } = await sourceFile(language, code);
    return this.run({ ...rest, files: { ...rest.files, [file]: source }, command: [...this.interpreterFor(language), file, ...args] });
  }

  /** The command line that runs a source file of `language` inside the sandbox. */
  interpreterFor(language: Language): string[] {
    if (language === 'python') return [this.interpreters.python, '-E', '-s', '-B']; // not -I: the script's folder stays importable
    if (language === 'javascript' || language === 'typescript') return [this.interpreters.node, '--max-old-space-size=256'];
    throw new ConfigError(`unknown language '${String(language)}'; available: python, javascript, typescript`);
  }

  private args(ws: Workspace, options: SandboxRunOptions, limits: SandboxLimits): string[] {
    const uid = this.asRoot ? lstatSync(ws.path).uid : undefined;
    const rl = [
      `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`,
      `--as=${limits.memoryBytes}`,
      `--nproc=${limits.processes}`,
      `--fsize=${limits.fileBytes}`,
      `--nofile=${limits.openFiles}`,
      '--core=0',
    ];
    const drop = uid !== undefined ? [this.setpriv!, `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'] : [];
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/sandbox', TMPDIR: '/tmp', LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1', ...options.env };
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['--setenv', k, v]);
    return [
      ...rl, '--', ...drop, this.bwrap,
      '--unshare-all', '--die-with-parent', '--new-session', '--hostname', 'sandbox',
      ...this.fsArgs,
      '--proc', '/proc', '--dev', '/dev',
      '--bind', ws.path, '/sandbox', '--bind', join(ws.path, '.tmp'), '/tmp',
      // The root itself (a tmpfs bwrap builds the mount points on) becomes read-only too.
      '--remount-ro', '/',
      '--chdir', '/sandbox', '--clearenv', ...envArgs,
      '--', ...options.command,
    ];
  }

  private systemMounts(): string[] {
    const fs: string[] = ['--ro-bind', '/usr', '/usr'];
    for (const p of SYSTEM_LINKS) {
      if (!existsSync(p)) continue;
      if (lstatSync(p).isSymbolicLink()) fs.push('--symlink', readlinkRelative(p), p);
      else fs.push('--ro-bind', p, p);
    }
    for (const p of ETC_FILES) if (existsSync(p)) fs.push('--ro-bind', p, p);
    for (const p of this.mounts) if (existsSync(p)) fs.push('--ro-bind', p, p);
    return fs;
  }

  private spawnRun(ws: Workspace, options: SandboxRunOptions, limits: SandboxLimits): Promise<SandboxResult> {
    const started = performance.now();
    const child = spawn('prlimit', this.args(ws, options, limits), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[], bytes: { stdout: 0, stderr: 0 } };
    let killedFor: SandboxOutcome | undefined;
    const kill = (why: SandboxOutcome) => {
      killedFor ??= why;
      try {
        // The whole process group: prlimit → setpriv → bwrap (one exec chain) and bwrap's sandbox,
        // which dies with it (--die-with-parent; the PID namespace ends with its init).
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const capture = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const room = limits.outputBytes - out.bytes[stream];
      if (room > 0) out[stream].push(chunk.subarray(0, room));
      out.bytes[stream] += chunk.length;
      if (out.bytes[stream] > limits.outputBytes) kill('output_limit');
    };
    child.stdout.on('data', capture('stdout'));
    child.stderr.on('data', capture('stderr'));
    child.stdin.on('error', () => {}); // the program may exit without reading its input
    child.stdin.end(options.stdin ?? '');
    const timer = setTimeout(() => kill('timeout'), limits.wallMs);
    return new Promise((resolveRun) => {
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const stdout = Buffer.concat(out.stdout).toString('utf8');
        const stderr = Buffer.concat(out.stderr).toString('utf8');
        // bwrap reports a program killed by a signal as exit code 128 + signal number.
        const sig = signal ?? (code !== null && code > 128 && code < 160 ? signalName(code - 128) : null);
        resolveRun({
          outcome: killedFor ?? outcomeOf(code, sig, stderr),
          exitCode: code,
          signal: sig,
          stdout,
          stderr,
          truncated: out.bytes.stdout > limits.outputBytes || out.bytes.stderr > limits.outputBytes,
          wallMs: Math.round(performance.now() - started),
        });
      });
    });
  }
}

function outcomeOf(code: number | null, signal: string | null, stderr: string): SandboxOutcome {
  if (signal === 'SIGXCPU') return 'cpu_limit';
  if (/MemoryError|heap out of memory|Cannot allocate memory|std::bad_alloc|Out of memory/i.test(stderr)) return 'memory_limit';
  if (signal !== null) return signal === 'SIGKILL' ? 'cpu_limit' : 'killed';
  return code === 0 ? 'ok' : 'error';
}

function signalName(n: number): string {
  const names: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 15: 'SIGTERM', 24: 'SIGXCPU', 25: 'SIGXFSZ' };
  return names[n] ?? `SIG${n}`;
}

function readlinkRelative(p: string): string {
  // /lib → usr/lib on merged-/usr systems: recreate the same link inside the sandbox.
  return relative(dirname(p), realpathSync(p)) || '.';
}

function which(cmd: string): string | undefined {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : undefined;
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path ? path : undefined;
}

function checkLimits(l: SandboxLimits): SandboxLimits {
  for (const [k, v] of Object.entries(l)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ConfigError(`sandbox limit '${k}' must be a positive number, not ${String(v)}`);
  }
  return { ...l, cpuSeconds: Math.ceil(l.cpuSeconds), processes: Math.floor(l.processes) };
}

async function sourceFile(language: Language, code: string): Promise<{ file: string; source: string }> {
  if (typeof code !== 'string') throw new ConfigError('runCode needs the program as a string');
  if (language === 'python') return { file: 'main.py', source: code };
  if (language === 'javascript') return { file: 'main.js', source: code };
  if (language === 'typescript') return { file: 'main.js', source: await transpileTypeScript(code) };
  throw new ConfigError(`unknown language '${String(language)}'; available: python, javascript, typescript`);
}

/** TypeScript → JavaScript (CommonJS) on the host, with the `typescript` package (types are not checked). */
export async function transpileTypeScript(code: string): Promise<string> {
  let ts: { transpileModule: (src: string, o: unknown) => { outputText: string }; ModuleKind: { CommonJS: number }; ScriptTarget: { ES2022: number } };
  try {
    const mod = (await import('typescript')) as unknown as { default?: typeof ts } & typeof ts;
    ts = mod.default ?? mod;
  } catch (error) {
    throw new ConfigError("running TypeScript needs the 'typescript' package; install it with 'npm install typescript'", { cause: error });
  }
  return ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
}
