import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, exitCodeFor } from '../src/cli/run-cli.js';
import { ConfigError } from '../src/core/index.js';
import { configChanges, type TrainConfig } from '../src/train/index.js';

// What the flagship examples' `run.ts` scripts share.

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

/** Runs a script's `main`, printing one line for a keiko error (a stack for anything else) and exiting non-zero. */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    process.stderr.write(`${name}: ${errorMessage(error)}\n`);
    process.exit(exitCodeFor(error));
  });
}

/**
 * Whether `runDir` holds an interrupted run of this same configuration, to be resumed (true) or no
 * run at all (false). A run made with other settings is never resumed into: that would mix two
 * configurations in one result. The model path is left out of the comparison (the scripts create
 * the model inside the run folder).
 */
export function resumeSameConfig(runDir: string, config: TrainConfig): boolean {
  if (!existsSync(join(runDir, 'run.json'))) return false;
  const saved = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const differ = configChanges(saved, config, ['model']).map((c) => c.key);
  if (differ.length > 0) {
    throw new ConfigError(`${runDir} holds a run made with other settings (${differ.join(', ')}); move or delete it, or pass --runName=<new name>`);
  }
  return true;
}
