import { z } from 'zod';
import { ErrorRecord } from '../core/rollout-result.js';

export const PROXY_CALL_SCHEMA_VERSION = 1;

/**
 * One model call that went through the interception proxy, as recorded for its rollout: the body
 * sent upstream (after the proxy added `return_token_ids`/logprobs and sampling overrides), the
 * upstream's full JSON response, and timing. A streamed call records exactly what a non-streamed
 * one would: the proxy always asks the upstream for a full response and streams it itself.
 * Token ids and logprobs are read from `response` (see `callTokens`), never re-tokenized.
 */
export const ProxyCall = z.object({
  schemaVersion: z.literal(PROXY_CALL_SCHEMA_VERSION).default(PROXY_CALL_SCHEMA_VERSION),
  rolloutId: z.string(),
  /** Order in which the call arrived within its rollout (0, 1, …). */
  index: z.number().int().nonnegative(),
  endpoint: z.enum(['chat', 'completions']),
  /** Whether the agent asked for a stream (the recorded request/response do not depend on it). */
  streamed: z.boolean(),
  /** The JSON body sent upstream. */
  request: z.record(z.string(), z.unknown()),
  /** HTTP status from the upstream (0 when it never answered). */
  status: z.number().int(),
  /** The upstream's parsed JSON body (absent when it never answered or sent no JSON). */
  response: z.unknown().optional(),
  error: ErrorRecord.optional(),
  /** Milliseconds since the proxy started, when the call arrived and when it was answered. */
  startMs: z.number(),
  endMs: z.number(),
});
export type ProxyCall = z.infer<typeof ProxyCall>;
