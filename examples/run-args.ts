import { ConfigError } from '../src/core/index.js';

/**
 * The flagship examples' `run.ts` arguments: `--split=validation|test` (which held-out split to
 * score at the end; settings are compared on validation, test is scored once) and, passed through,
 * the training-config overrides (`--key=value`).
 */
export function parseRunArgs(argv: readonly string[]): { split: 'validation' | 'test'; overrides: string[] } {
  let split: 'validation' | 'test' = 'test';
  const overrides: string[] = [];
  for (const arg of argv) {
    const m = /^--split=(.*)$/.exec(arg);
    if (!m) overrides.push(arg);
    else if (m[1] === 'validation' || m[1] === 'test') split = m[1];
    else throw new ConfigError(`--split must be 'validation' or 'test', not '${m[1]}'`);
  }
  return { split, overrides };
}
