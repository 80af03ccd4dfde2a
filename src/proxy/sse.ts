import type { Endpoint } from './upstream-body.js';

interface ChoiceLike {
  index?: number;
  message?: { role?: string; content?: string | null; tool_calls?: { id?: string; type?: string; function?: { name?: string; arguments?: string } }[] };
  text?: string;
  finish_reason?: string | null;
}

interface BodyLike {
  id?: string;
  created?: number;
  model?: string;
  choices?: ChoiceLike[];
  usage?: unknown;
}

/**
 * Server-sent events for a finished response, in OpenAI's streaming format: per choice, one chunk
 * with the whole content (and tool calls, with indices), then a chunk with `finish_reason`; a usage
 * chunk when asked; then `[DONE]`. Upstream extensions (token ids, logprobs) are left out, as in
 * OpenAI's own streams; they are recorded by the proxy.
 */
export function sseFromResponse(options: { endpoint: Endpoint; body: unknown; includeUsage: boolean }): string {
  const body = (options.body ?? {}) as BodyLike;
  const chat = options.endpoint === 'chat';
  const base = {
    id: body.id ?? (chat ? 'chatcmpl-keiko' : 'cmpl-keiko'),
    object: chat ? 'chat.completion.chunk' : 'text_completion',
    created: body.created ?? 0,
    model: body.model ?? '',
  };
  let out = '';
  const emit = (payload: unknown) => {
    out += `data: ${JSON.stringify(payload)}\n\n`;
  };
  for (const [i, choice] of (body.choices ?? []).entries()) {
    const index = choice.index ?? i;
    if (chat) {
      const message = choice.message ?? {};
      const delta: Record<string, unknown> = { role: 'assistant', content: message.content ?? '' };
      if (message.tool_calls?.length) {
        delta.tool_calls = message.tool_calls.map((call, j) => ({
          index: j,
          id: call.id,
          type: call.type ?? 'function',
          function: { name: call.function?.name ?? '', arguments: call.function?.arguments ?? '' },
        }));
      }
      emit({ ...base, choices: [{ index, delta, logprobs: null, finish_reason: null }] });
      emit({ ...base, choices: [{ index, delta: {}, logprobs: null, finish_reason: choice.finish_reason ?? 'stop' }] });
    } else {
      emit({ ...base, choices: [{ index, text: choice.text ?? '', logprobs: null, finish_reason: null }] });
      emit({ ...base, choices: [{ index, text: '', logprobs: null, finish_reason: choice.finish_reason ?? 'stop' }] });
    }
  }
  if (options.includeUsage && body.usage) emit({ ...base, choices: [], usage: body.usage });
  out += 'data: [DONE]\n\n';
  return out;
}
