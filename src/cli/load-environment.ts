import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../core/index.js';
import type { Environment, LoadEnvironment } from '../core/index.js';
import { loadBuiltinEnvironment } from '../../environments/index.js';

/** True when `spec` names a module file rather than a built-in environment. */
export function isModuleSpec(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec) || spec.includes('/') || /\.[cm]?[jt]s$/.test(spec);
}

/**
 * The one environment loader of every command (`eval -e`, `train --env`, `sft --env`): a built-in
 * environment name, or a path to a module whose `loadEnvironment(args)` is a named export, the
 * default export, or a method of the default export (TypeScript modules load through tsx, see
 * `ensureTypeScriptLoader`).
 */
export async function loadEnvironment(options: { spec: string; args: Record<string, unknown> }): Promise<Environment> {
  const { spec, args } = options;
  if (!isModuleSpec(spec)) return loadBuiltinEnvironment(spec, args);
  const path = resolve(spec);
  if (!existsSync(path)) throw new ConfigError(`environment module ${spec} not found (resolved to ${path})`);
  let mod: Record<string, unknown>;
  const typescript = /\.[cm]?ts$/.test(path);
  const loader = typescript ? await ensureTypeScriptLoader() : 'not needed';
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    const message = (error as Error).message;
    const hint = /require\(\)|ES Module|Cannot use import statement/.test(message)
      ? ' (keiko environments are ES modules: add "type": "module" to the nearest package.json, or name the file .mts)'
      : loader === 'missing'
        ? " (TypeScript environment modules load through tsx: 'npm install --save-dev tsx' in your project, or compile the module to .js)"
        : '';
    throw new ConfigError(`could not import environment module ${spec}: ${message.split('\n')[0]}${hint}`, { cause: error });
  }
  const fallback = mod.default as LoadEnvironment | { loadEnvironment?: LoadEnvironment } | undefined;
  const load = (mod.loadEnvironment ?? (typeof fallback === 'function' ? fallback : fallback?.loadEnvironment)) as LoadEnvironment | undefined;
  if (typeof load !== 'function') {
    const exported = Object.keys(mod);
    throw new ConfigError(`environment module ${spec} must export a function loadEnvironment(args); it exports: ${exported.length ? exported.join(', ') : '(nothing)'}`);
  }
  const env = await load(args);
  if (!env || typeof env.rollout !== 'function' || !env.rubric) {
    throw new ConfigError(`loadEnvironment in ${spec} must return an Environment (e.g. singleTurnEnv({...}))`);
  }
  return env;
}

let typeScriptLoader: Promise<'active' | 'registered' | 'missing'> | undefined;

/**
 * Makes `.ts` modules importable. From keiko's own sources (a clone, run through tsx by bin/keiko.js)
 * they already are. The compiled package has no TypeScript loader of its own: it registers tsx from
 * the user's project (a dev dependency of every `keiko init` project) the first time one is needed,
 * and reports 'missing' when tsx is not installed.
 */
export function ensureTypeScriptLoader(): Promise<'active' | 'registered' | 'missing'> {
  typeScriptLoader ??= (async () => {
    if (import.meta.url.endsWith('.ts')) return 'active';
    try {
      const tsx = (await import('tsx/esm/api')) as { register: () => unknown };
      tsx.register();
      return 'registered';
    } catch {
      return 'missing';
    }
  })();
  return typeScriptLoader;
}
