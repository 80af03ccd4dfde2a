import type { SamplingArgs } from '../core/sampler.js';

/**
 * Checks the few fields the proxy relies on, without copying the body (zod object schemas would
 * clone every message on the hot path). Returns an error message, or undefined when the body is usable.
 */
export function checkAgentBody(endpoint: Endpoint, body: Record<string, unknown>): string | undefined {
  if (endpoint === 'chat') {
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) return 'messages: expected a non-empty array of chat messages';
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i] as { role?: unknown } | null;
      if (m === null || typeof m !== 'object' || typeof m.role !== 'string') return `messages.${i}: expected an object with a string role`;
    }
  } else {
    const prompt = body.prompt;
    if (typeof prompt !== 'string' && !(Array.isArray(prompt) && prompt.every((t) => Number.isInteger(t)))) {
      return 'prompt: expected a string or an array of token ids';
    }
  }
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') return 'stream: expected a boolean';
  return undefined;
}

export type Endpoint = 'chat' | 'completions';

/** Sampling the proxy imposes on one rollout's calls, and the model name the upstream expects. */
export interface UpstreamOverrides {
  /** Replaces the agent's `model` when set (agents may send any name). */
  model?: string | undefined;
  /** Fields set here replace the agent's; `seed` becomes `seed + callIndex` so calls differ. */
  sampling?: SamplingArgs | undefined;
}

/**
 * Turns an agent's request body into the body sent upstream, in place: drops streaming (the proxy
 * streams itself), asks for token ids and logprobs, applies the rollout's model and sampling, and
 * flattens OpenAI content-part arrays to text so chat templates and strict servers accept them.
 * Returns whether the agent wanted a stream and usage in it.
 */
export function prepareUpstreamBody(options: {
  endpoint: Endpoint;
  body: Record<string, unknown>;
  callIndex: number;
  overrides: UpstreamOverrides;
}): { stream: boolean; includeUsage: boolean } {
  const { endpoint, body, callIndex, overrides } = options;
  const stream = body.stream === true;
  const streamOptions = body.stream_options as { include_usage?: boolean | null } | null | undefined;
  const includeUsage = stream && streamOptions?.include_usage === true;
  delete body.stream;
  delete body.stream_options;
  body.return_token_ids = true;
  if (endpoint === 'chat') {
    body.logprobs = true;
    flattenMessages(body.messages as Record<string, unknown>[]);
  } else if (typeof body.logprobs !== 'number') {
    body.logprobs = 0;
  }
  if (overrides.model !== undefined) body.model = overrides.model;
  const s = overrides.sampling;
  if (s) {
    if (s.temperature !== undefined) body.temperature = s.temperature;
    if (s.topP !== undefined) body.top_p = s.topP;
    if (s.maxTokens !== undefined) {
      body.max_tokens = s.maxTokens;
      delete body.max_completion_tokens;
    }
    if (s.stop?.length) body.stop = s.stop;
    if (s.seed !== undefined) body.seed = (s.seed + callIndex) | 0;
  }
  return { stream, includeUsage };
}

/** Content-part arrays → text; `developer` → `system` (older chat templates know no developer role). */
function flattenMessages(messages: Record<string, unknown>[]): void {
  for (const m of messages) {
    if (m.role === 'developer') m.role = 'system';
    const content = m.content;
    if (Array.isArray(content)) m.content = partsText(content);
  }
}

function partsText(parts: unknown[]): string {
  let text = '';
  for (const part of parts) {
    if (typeof part === 'string') text += part;
    else if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') {
      text += (part as { text: string }).text;
    }
  }
  return text;
}
