import { z } from 'zod';
import { ChatMessage, type ToolSchema } from './messages.js';
import type { TokenUsage, ErrorRecord } from './rollout-result.js';
import type { Rng } from './rng.js';
import type { Sampler, SamplingArgs } from './sampler.js';
import type { StopReason, Turn } from './trajectory.js';

/** One dataset row, ready to roll out: the prompt messages plus whatever the rubric needs. */
export const Example = z.object({
  id: z.union([z.string(), z.number()]),
  prompt: z.array(ChatMessage),
  answer: z.unknown().optional(),
  task: z.string().optional(),
  info: z.record(z.string(), z.unknown()).default({}),
});
export type Example = z.infer<typeof Example>;

/** Per-rollout limits; a rollout that hits one ends `truncated`. */
export interface RolloutBudget {
  maxTurns?: number;
  /** Prompt + completion tokens summed over all turns. */
  maxTotalTokens?: number;
}

export interface RolloutContext {
  sampler: Sampler;
  sampling: SamplingArgs;
  rng: Rng;
  budget?: RolloutBudget;
  signal?: AbortSignal;
  /** The rollout group this rollout belongs to; environments pass it on with their chat requests. */
  groupId?: string;
}

/** What an environment's rollout returns; the rollout engine scores it and adds timing. */
export interface RolloutOutput {
  prompt: ChatMessage[];
  completion: ChatMessage[];
  turns: Turn[];
  stopReason: StopReason;
  /** Environment-specific state (game board, opened pages…), handed to reward functions. */
  state: Record<string, unknown>;
  usage: TokenUsage;
  error?: ErrorRecord;
}

/** Everything a reward function may ask for. Functions destructure only what they use. */
export interface ScoreInput<Parser = unknown> {
  prompt: ChatMessage[];
  completion: ChatMessage[];
  answer: unknown;
  info: Record<string, unknown>;
  task: string | undefined;
  state: Record<string, unknown>;
  turns: Turn[];
  stopReason: StopReason;
  parser: Parser;
}

export interface Scores {
  reward: number;
  /** Every function's raw score, by name. */
  metrics: Record<string, number>;
  /** Functions that threw (scored 0), with their messages. */
  errors?: Record<string, string>;
}

/** Turns a finished rollout into a reward. Group-level rubrics score all rollouts of one prompt together. */
export interface Rubric {
  /** True when some function needs the whole group (then the engine calls `scoreGroup`). */
  readonly needsGroup: boolean;
  /** Names of all functions, for tables and metrics. */
  readonly functionNames: readonly string[];
  score(input: ScoreInput): Promise<Scores>;
  scoreGroup(inputs: ScoreInput[]): Promise<Scores[]>;
}

/**
 * An environment: a dataset, an interaction protocol and a rubric. `rollout` never throws for
 * failures inside the episode (model garbage, tool errors, sampler errors): it records them.
 */
export interface Environment {
  readonly name: string;
  readonly dataset: readonly Example[];
  readonly evalDataset?: readonly Example[];
  readonly rubric: Rubric;
  readonly tools?: readonly ToolSchema[];
  /** Parser handed to reward functions as `parser`. */
  readonly parser?: unknown;
  rollout(example: Example, ctx: RolloutContext): Promise<RolloutOutput>;
  /**
   * A scripted solver: the completion messages a (possibly noisy) teacher would produce, for SFT
   * warm starts. Optional.
   */
  demonstrate?(example: Example, rng: Rng): ChatMessage[];
}

/** What a module passed to `keiko eval -e ./my-env.ts` must export. */
export type LoadEnvironment = (args: Record<string, unknown>) => Environment | Promise<Environment>;
