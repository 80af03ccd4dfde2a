import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/errors.js';

/**
 * Where the engine's Python sources and its virtualenv are, for a clone and for an installed
 * package alike. keiko's package root is the nearest folder above this file with a package.json
 * (the clone from `src/engine/`, the installed package from `dist/src/engine/`); the engine's
 * sources are its `engine/` folder, and every engine process runs with that folder first on
 * `PYTHONPATH`, so the Python half is always the same version as the TypeScript half that starts it.
 */
function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return join(from, '..', '..');
  }
}

/** keiko's package root (a clone, or `node_modules/keiko`). */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** The engine's Python project (`pyproject.toml`, `constraints.txt`, `keiko_engine/`). */
export const ENGINE_DIR = join(PACKAGE_ROOT, 'engine');

/** The pinned versions of the engine's Python dependencies, the ones CI tested. */
export const ENGINE_CONSTRAINTS = join(ENGINE_DIR, 'constraints.txt');

/** A clone's own engine virtualenv (made by `scripts/setup.sh`). */
export const CHECKOUT_VENV = join(ENGINE_DIR, '.venv');

/**
 * The per-user engine virtualenv that `keiko setup` makes: `$KEIKO_ENGINE_VENV`, else
 * `$XDG_DATA_HOME/keiko/engine-venv` (default `~/.local/share/keiko/engine-venv`).
 */
export function userEngineVenv(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KEIKO_ENGINE_VENV) return env.KEIKO_ENGINE_VENV;
  const data = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return join(data, 'keiko', 'engine-venv');
}

/** The Python executable inside a virtualenv. */
export function venvPython(venv: string): string {
  return process.platform === 'win32' ? join(venv, 'Scripts', 'python.exe') : join(venv, 'bin', 'python');
}

/** Which Python runs the engine, and why that one. */
export interface EnginePythonChoice {
  python: string;
  /** `explicit` (an option), `KEIKO_ENGINE_PYTHON`, `KEIKO_ENGINE_VENV`, `checkout` (engine/.venv of a clone), `user` (the per-user venv). */
  from: 'explicit' | 'KEIKO_ENGINE_PYTHON' | 'KEIKO_ENGINE_VENV' | 'checkout' | 'user';
  exists: boolean;
}

/**
 * The engine's Python, first match wins: an explicit path, `$KEIKO_ENGINE_PYTHON`,
 * `$KEIKO_ENGINE_VENV`'s python, a clone's `engine/.venv`, the per-user venv of `keiko setup`.
 * When none exists, the per-user venv's python is returned with `exists: false`.
 */
export function chooseEnginePython(explicit?: string, env: NodeJS.ProcessEnv = process.env): EnginePythonChoice {
  const pick = (python: string, from: EnginePythonChoice['from']): EnginePythonChoice => ({ python, from, exists: existsSync(python) });
  if (explicit) return pick(explicit, 'explicit');
  if (env.KEIKO_ENGINE_PYTHON) return pick(env.KEIKO_ENGINE_PYTHON, 'KEIKO_ENGINE_PYTHON');
  if (env.KEIKO_ENGINE_VENV) return pick(venvPython(env.KEIKO_ENGINE_VENV), 'KEIKO_ENGINE_VENV');
  const checkout = pick(venvPython(CHECKOUT_VENV), 'checkout');
  if (checkout.exists) return checkout;
  return pick(venvPython(userEngineVenv(env)), 'user');
}

/** The Python that runs the engine (see `chooseEnginePython`); a `ConfigError` naming the fix when it is missing. */
export function defaultEnginePython(explicit?: string): string {
  const choice = chooseEnginePython(explicit);
  if (!choice.exists) {
    const fix =
      choice.from === 'user'
        ? `run 'npx keiko setup' to create it (in a clone: 'bash scripts/setup.sh'), or set KEIKO_ENGINE_PYTHON to a Python with the engine's dependencies`
        : `check ${choice.from === 'explicit' ? 'the python option' : `$${choice.from}`}, or run 'npx keiko setup'`;
    throw new ConfigError(`engine Python not found at ${choice.python}; ${fix}`);
  }
  return choice.python;
}

/** The environment of an engine process: `base` with keiko's engine sources first on `PYTHONPATH`. */
export function engineProcessEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const rest = base.PYTHONPATH ? `${delimiter}${base.PYTHONPATH}` : '';
  return { ...base, PYTHONPATH: `${ENGINE_DIR}${rest}` };
}
