import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { ConfigError, EngineError } from '../core/errors.js';
import { ENGINE_CONSTRAINTS, ENGINE_DIR, engineProcessEnv, userEngineVenv, venvPython } from './engine-home.js';

/** The Python packages the engine needs at run time: `[project].dependencies` of engine/pyproject.toml. */
export function engineRequirements(engineDir: string = ENGINE_DIR): string[] {
  const pyproject = parseToml(readFileSync(join(engineDir, 'pyproject.toml'), 'utf8')) as { project?: { dependencies?: unknown } };
  const deps = z.array(z.string()).safeParse(pyproject.project?.dependencies);
  if (!deps.success || deps.data.length === 0) throw new ConfigError(`${join(engineDir, 'pyproject.toml')} lists no [project].dependencies`);
  return deps.data;
}

/** What an engine Python has installed (`null`: not importable). */
export const EnginePythonReport = z.object({
  python: z.string(),
  executable: z.string(),
  packages: z.record(z.string(), z.string().nullable()),
  cuda: z.boolean().nullable(),
  /** Where `import keiko_engine` resolves (keiko's own engine sources when PYTHONPATH is set right). */
  keikoEngine: z.string().nullable(),
});
export type EnginePythonReport = z.infer<typeof EnginePythonReport>;

/** The packages whose versions `probeEnginePython` reports (vllm is optional). */
export const PROBED_PACKAGES = ['torch', 'transformers', 'tokenizers', 'safetensors', 'peft', 'fastapi', 'uvicorn', 'vllm'] as const;

const PROBE = `
import importlib.metadata as md, json, sys
def version(name):
    try:
        return md.version(name)
    except Exception:
        return None
packages = {name: version(name) for name in ${JSON.stringify([...PROBED_PACKAGES])}}
cuda = None
if packages['torch']:
    try:
        import torch
        cuda = bool(torch.cuda.is_available())
    except Exception:
        packages['torch'] = None
try:
    import keiko_engine
    engine = keiko_engine.__file__
except Exception:
    engine = None
print(json.dumps({'python': '%d.%d.%d' % sys.version_info[:3], 'executable': sys.executable, 'packages': packages, 'cuda': cuda, 'keikoEngine': engine}))
`;

/** Runs `python` (with keiko's engine sources on PYTHONPATH) and reports its packages. */
export async function probeEnginePython(python: string): Promise<EnginePythonReport> {
  const { code, stdout, stderr } = await run(python, ['-c', PROBE], { env: engineProcessEnv() });
  if (code !== 0) throw new EngineError(`${python} failed to report its packages (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  let raw: unknown;
  try {
    raw = JSON.parse(last);
  } catch {
    throw new EngineError(`${python} printed no package report: ${last.slice(0, 200)}`);
  }
  return EnginePythonReport.parse(raw);
}

/** The version of a Python interpreter (`[major, minor]`), or undefined when it does not run. */
export async function pythonVersion(python: string): Promise<[number, number] | undefined> {
  try {
    const { code, stdout } = await run(python, ['-c', 'import sys; print("%d %d" % sys.version_info[:2])']);
    if (code !== 0) return undefined;
    const [major, minor] = stdout.trim().split(' ').map(Number);
    return major !== undefined && minor !== undefined && Number.isFinite(major) && Number.isFinite(minor) ? [major, minor] : undefined;
  } catch {
    return undefined;
  }
}

/** The oldest Python the engine supports (engine/pyproject.toml's requires-python). */
export const MIN_PYTHON: [number, number] = [3, 10];

/** Written into the venv by `setupEngineVenv`: which constraints it was installed with. */
export const SETUP_MARKER = 'keiko-engine-setup.json';

/** A digest of the constraints file, so that `keiko doctor` can tell a venv made from older pins. */
export function constraintsDigest(path: string = ENGINE_CONSTRAINTS): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
}

export interface SetupEngineOptions {
  /** The virtualenv to create or update. Default: `userEngineVenv()`. */
  venv?: string;
  /** The Python to create it with. Default `python3`. */
  python?: string;
  /** Delete the venv first and install from scratch. */
  force?: boolean;
  /** Extra `pip install` arguments (e.g. an `--index-url`). */
  pipArgs?: string[];
  /** Progress lines (the commands run, pip's output). */
  onLine?: (line: string) => void;
}

/**
 * Creates (or brings up to date) the engine's virtualenv: `python -m venv`, then `pip install` of
 * the engine's dependencies with `--constraint engine/constraints.txt`, so a fresh install gets the
 * versions CI tested. keiko_engine itself is not installed: every engine process puts the package's
 * own `engine/` first on PYTHONPATH. On a pip failure the venv is left without its marker, so
 * `keiko doctor` reports it incomplete and a rerun continues where pip stopped.
 */
export async function setupEngineVenv(options: SetupEngineOptions = {}): Promise<{ venv: string; python: string; report: EnginePythonReport }> {
  const venv = options.venv ?? userEngineVenv();
  const basePython = options.python ?? 'python3';
  const log = options.onLine ?? (() => {});
  const version = await pythonVersion(basePython);
  if (!version) throw new ConfigError(`cannot run '${basePython}'; install Python ≥ ${MIN_PYTHON.join('.')} with venv (Debian/Ubuntu: apt-get install python3 python3-venv) or pass --python`);
  if (version[0] < MIN_PYTHON[0] || (version[0] === MIN_PYTHON[0] && version[1] < MIN_PYTHON[1])) {
    throw new ConfigError(`${basePython} is Python ${version.join('.')}; the engine needs ≥ ${MIN_PYTHON.join('.')} (pass --python python3.11)`);
  }
  if (options.force) rmSync(venv, { recursive: true, force: true });
  const python = venvPython(venv);
  if (!existsSync(python)) {
    await step(log, basePython, ['-m', 'venv', venv], `could not create a virtualenv at ${venv} (Debian/Ubuntu: apt-get install python3-venv)`);
  }
  rmSync(join(venv, SETUP_MARKER), { force: true });
  const pip = [...['-m', 'pip', 'install', '--progress-bar', 'off', '--constraint', ENGINE_CONSTRAINTS], ...(options.pipArgs ?? []), ...engineRequirements()];
  await step(log, python, pip, `pip could not install the engine's dependencies into ${venv}; fix the error above and run 'keiko setup' again`);
  const report = await probeEnginePython(python);
  const missing = ['torch', 'transformers'].filter((name) => !report.packages[name]);
  if (missing.length) throw new EngineError(`${venv} still lacks ${missing.join(', ')} after pip install`);
  writeFileSync(join(venv, SETUP_MARKER), `${JSON.stringify({ constraints: constraintsDigest(), engineDir: ENGINE_DIR, at: new Date().toISOString() }, null, 2)}\n`);
  return { venv, python, report };
}

async function step(log: (line: string) => void, cmd: string, args: string[], failure: string): Promise<void> {
  log(`$ ${[cmd, ...args].join(' ')}`);
  const { code, stderr } = await run(cmd, args, { onLine: log });
  if (code !== 0) throw new EngineError(`${failure} (exit ${code})${stderr ? `:\n${stderr.trim().split('\n').slice(-5).join('\n')}` : ''}`);
}

function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    const lines = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) options.onLine?.(line);
    };
    proc.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      lines(c);
    });
    proc.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
      lines(c);
    });
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
