import { z } from 'zod';
import { ChatMessage } from './messages.js';
import { StopReason, Trajectory, Turn } from './trajectory.js';

export const ROLLOUT_SCHEMA_VERSION = 1;

export const ErrorRecord = z.object({ name: z.string(), code: z.string(), message: z.string() });
export type ErrorRecord = z.infer<typeof ErrorRecord>;

export const TokenUsage = z.object({
  promptTokens: z.number().int().nonnegative().default(0),
  completionTokens: z.number().int().nonnegative().default(0),
});
export type TokenUsage = z.infer<typeof TokenUsage>;

/**
 * One scored rollout, as written to `results.jsonl` (one JSON object per line). `exampleId` and
 * `sample` (0…groupSize-1) identify it, so an interrupted run can resume.
 */
export const RolloutResult = z.object({
  schemaVersion: z.literal(ROLLOUT_SCHEMA_VERSION).default(ROLLOUT_SCHEMA_VERSION),
  exampleId: z.union([z.string(), z.number()]),
  sample: z.number().int().nonnegative(),
  /**
   * The rollout group (the rollouts of one prompt that share a GRPO baseline), named where the group
   * was scheduled and carried to the sampler and the training batch. Absent in older files.
   */
  groupId: z.string().optional(),
  task: z.string().optional(),
  prompt: z.array(ChatMessage),
  /** Messages after the prompt: assistant turns, tool results, environment replies. */
  completion: z.array(ChatMessage),
  answer: z.unknown().optional(),
  info: z.record(z.string(), z.unknown()).default({}),
  turns: z.array(Turn).default([]),
  stopReason: StopReason,
  reward: z.number(),
  /** Score of every rubric function, weighted or not (weight 0 = metric only). */
  metrics: z.record(z.string(), z.number()).default({}),
  error: ErrorRecord.optional(),
  /** Errors raised by individual reward functions (scored 0), keyed by function name. */
  scoringErrors: z.record(z.string(), z.string()).optional(),
  timing: z.object({ generationMs: z.number(), scoringMs: z.number(), totalMs: z.number() }),
  usage: TokenUsage,
  /** Filled in by the trainer: the advantage this rollout received. */
  advantage: z.number().optional(),
});
export type RolloutResult = z.infer<typeof RolloutResult>;
export type { Trajectory };
