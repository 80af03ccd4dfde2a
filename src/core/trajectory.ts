import { z } from 'zod';
import { AssistantMessage, ChatMessage } from './messages.js';

/**
 * Token-level record of one model call, exactly as the sampler produced it. `promptIds` is what the
 * model conditioned on, `completionIds` what it sampled, `completionLogprobs[i]` the sampler's
 * logprob of `completionIds[i]`. Present only when the sampler returns ids (the engine, vLLM).
 */
export const TurnTokens = z.object({
  promptIds: z.array(z.number().int()),
  completionIds: z.array(z.number().int()),
  completionLogprobs: z.array(z.number()),
});
export type TurnTokens = z.infer<typeof TurnTokens>;

/** One model call inside a rollout: the messages it saw, the message it produced, and its tokens. */
export const Turn = z.object({
  prompt: z.array(ChatMessage),
  completion: AssistantMessage,
  tokens: TurnTokens.optional(),
  finishReason: z.enum(['stop', 'length', 'tool_calls', 'error']).default('stop'),
  /** Weights version (optimizer step) of the sampler that produced this turn, when known. */
  policyVersion: z.number().int().optional(),
});
export type Turn = z.infer<typeof Turn>;

/**
 * Why a rollout ended. `terminated`: the episode reached a real end (answer given, game over), so its
 * reward is final. `truncated`: a budget cut it (max turns, max tokens, length), so the outcome is unknown.
 */
export const StopReason = z.enum(['terminated', 'truncated', 'error']);
export type StopReason = z.infer<typeof StopReason>;

export const Trajectory = z.array(Turn);
export type Trajectory = Turn[];
