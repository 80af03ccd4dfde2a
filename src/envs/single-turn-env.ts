import type { EnvOptions } from './multi-turn-env.js';
import { MultiTurnEnv } from './multi-turn-env.js';

/** Options for a single-turn environment: the shared options, nothing more. */
export type SingleTurnEnvOptions = EnvOptions;

/**
 * One prompt, one model answer, then scoring. The rollout ends `terminated`, or `truncated` when
 * the model hit its token limit.
 */
export class SingleTurnEnv extends MultiTurnEnv {
  constructor(options: SingleTurnEnvOptions) {
    super({ ...options, maxTurns: 1, isCompleted: () => true });
  }
}

/** Builds a `SingleTurnEnv`: `singleTurnEnv({ name, dataset, rubric, systemPrompt })`. */
export function singleTurnEnv(options: SingleTurnEnvOptions): SingleTurnEnv {
  return new SingleTurnEnv(options);
}
