import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Run ids are folder names: letters, digits, `.`, `_`, `-`, not starting with a dot. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

/** True when `id` can name a run folder (no separators, no `..`, no hidden names). */
export function isValidRunId(id: string): boolean {
  return RUN_ID_PATTERN.test(id) && !id.includes('..');
}

/**
 * Joins `parts` under `root` and returns the absolute path, or `undefined` when the result (after
 * resolving `..` and symbolic links that exist) would leave `root`. Every file the dashboard serves
 * goes through this.
 */
export function resolveInside(options: { root: string; parts: readonly string[] }): string | undefined {
  const root = resolve(options.root);
  for (const part of options.parts) {
    if (part.includes('\0') || isAbsolute(part)) return undefined;
  }
  const target = resolve(join(root, ...options.parts));
  if (!isWithin(root, target)) return undefined;
  // Follow links that exist: a symlink inside the runs dir must not point outside it.
  try {
    const realRoot = realpathSync(root);
    const realTarget = realpathSync(target);
    if (!isWithin(realRoot, realTarget)) return undefined;
  } catch {
    // Missing file: callers report 404; the lexical check above already holds.
  }
  return target;
}

function isWithin(root: string, target: string): boolean {
  if (target === root) return true;
  const rel = relative(root, target);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`);
}
