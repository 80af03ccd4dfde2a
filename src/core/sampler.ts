import { z } from 'zod';
import type { AssistantMessage, ChatMessage, ToolSchema } from './messages.js';
import type { TokenUsage } from './rollout-result.js';
import type { TurnTokens } from './trajectory.js';

/** Sampling parameters, named as in the OpenAI API but camel-cased. */
export const SamplingArgs = z.object({
  temperature: z.number().min(0).max(5).optional(),
  topP: z.number().gt(0).max(1).optional(),
  maxTokens: z.number().int().positive().optional(),
  stop: z.array(z.string()).optional(),
  seed: z.number().int().optional(),
  /** Ask for token ids and sampled-token logprobs (required for training). */
  returnTokens: z.boolean().optional(),
});
export type SamplingArgs = z.infer<typeof SamplingArgs>;

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolSchema[];
  sampling?: SamplingArgs;
  /** Number of choices to sample for the same messages. */
  n?: number;
  /**
   * The rollout group this request is made for (`RolloutContext.groupId`). Samplers that merge a
   * group's requests (`CoalescingSampler`) use it; others ignore it.
   */
  groupId?: string;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls';

export interface ChatChoice {
  message: AssistantMessage;
  finishReason: FinishReason;
  /** Present when the server returned prompt/completion ids and logprobs. */
  tokens?: TurnTokens;
}

export interface ChatResponse {
  choices: ChatChoice[];
  usage: TokenUsage;
  model: string;
  /** Weights version (optimizer step) the server sampled with, when it reports one. */
  policyVersion?: number;
}

export interface CompletionRequest {
  /** Text, or token ids when the server accepts them. */
  prompt: string | number[];
  sampling?: SamplingArgs;
  n?: number;
}

export interface CompletionChoice {
  text: string;
  finishReason: FinishReason;
  tokens?: TurnTokens;
}

export interface CompletionResponse {
  choices: CompletionChoice[];
  usage: TokenUsage;
  model: string;
  policyVersion?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * Anything that turns messages into assistant messages: an OpenAI-compatible server, keiko's engine,
 * or a scripted test double. Throws `SamplerError` on failure.
 */
export interface Sampler {
  readonly model: string;
  /**
   * The OpenAI-compatible base URLs behind this sampler, when it is an HTTP client (samplers that
   * wrap another one pass them through). The interception proxy forwards agents' calls there.
   */
  readonly baseUrls?: readonly string[];
  chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse>;
  complete?(request: CompletionRequest, options?: CallOptions): Promise<CompletionResponse>;
}
