import { ConfigError, unknownNameMessage, type Environment, type LoadEnvironment } from '../src/core/index.js';
import { loadEnvironment as arithmetic } from './arithmetic/index.js';
import { loadEnvironment as calculator } from './calculator/index.js';
import { loadEnvironment as columnAddition } from './column-addition/index.js';
import { loadEnvironment as guessNumber } from './guess-number/index.js';

/** Built-in environments by name, as `keiko eval -e <name>` and the trainer resolve them. */
export const builtinEnvironments: Record<string, LoadEnvironment> = {
  arithmetic,
  calculator,
  'column-addition': columnAddition,
  'guess-number': guessNumber,
};

/** Loads a built-in environment; unknown names raise a `ConfigError` listing the available ones. */
export async function loadBuiltinEnvironment(name: string, args: Record<string, unknown> = {}): Promise<Environment> {
  const load = Object.hasOwn(builtinEnvironments, name) ? builtinEnvironments[name] : undefined;
  if (!load) throw new ConfigError(unknownNameMessage('environment', name, Object.keys(builtinEnvironments)));
  return load(args);
}
