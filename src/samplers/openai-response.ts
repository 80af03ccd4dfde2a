import { z } from 'zod';
import { SamplerError } from '../core/errors.js';
import { formatZodError } from '../core/parse.js';
import type { AssistantMessage, ToolCall } from '../core/messages.js';
import type { ChatChoice, ChatResponse, CompletionChoice, CompletionResponse, FinishReason } from '../core/sampler.js';
import type { TurnTokens } from '../core/trajectory.js';

// Schemas for the fields keiko reads from OpenAI-compatible responses, including vLLM's token-id
// extensions. Loose: servers add fields freely.

const Usage = z.looseObject({ prompt_tokens: z.number().nullish(), completion_tokens: z.number().nullish() }).nullish();
const IdList = z.array(z.number().int()).nullish();

const ChatLogprobs = z
  .looseObject({ content: z.array(z.looseObject({ token: z.string(), logprob: z.number() })).nullish() })
  .nullish();

const ChatToolCall = z.looseObject({
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.looseObject({ name: z.string(), arguments: z.string().nullish() }).nullish(),
});

export const ChatCompletionBody = z.looseObject({
  model: z.string().nullish(),
  choices: z.array(
    z.looseObject({
      index: z.number().int().nullish(),
      message: z.looseObject({ content: z.string().nullish(), tool_calls: z.array(ChatToolCall).nullish() }),
      finish_reason: z.string().nullish(),
      logprobs: ChatLogprobs,
      token_ids: IdList,
      prompt_token_ids: IdList,
    }),
  ),
  prompt_token_ids: IdList,
  usage: Usage,
  policy_version: z.number().int().nullish(),
});

export const CompletionBody = z.looseObject({
  model: z.string().nullish(),
  choices: z.array(
    z.looseObject({
      index: z.number().int().nullish(),
      text: z.string().nullish(),
      finish_reason: z.string().nullish(),
      logprobs: z
        .looseObject({ tokens: z.array(z.string()).nullish(), token_logprobs: z.array(z.number().nullable()).nullish() })
        .nullish(),
      token_ids: IdList,
      prompt_token_ids: IdList,
    }),
  ),
  prompt_token_ids: IdList,
  usage: Usage,
  policy_version: z.number().int().nullish(),
});

function finishReason(raw: string | null | undefined, hasToolCalls: boolean): FinishReason {
  if (raw === 'length') return 'length';
  if (raw === 'tool_calls' || raw === 'function_call' || (hasToolCalls && raw !== 'length')) return 'tool_calls';
  return 'stop';
}

/** Ids from vLLM's `return_tokens_as_token_ids` labels ("token_id:123"), or undefined if any label is plain text. */
function idsFromLabels(labels: readonly string[]): number[] | undefined {
  const ids: number[] = [];
  for (const label of labels) {
    const m = /^token_id:(-?\d+)$/.exec(label);
    if (!m) return undefined;
    ids.push(Number(m[1]));
  }
  return ids;
}

function buildTokens(
  what: string,
  promptIds: readonly number[] | null | undefined,
  completionIds: readonly number[] | null | undefined,
  labels: readonly string[] | undefined,
  logprobs: readonly (number | null)[] | undefined,
): TurnTokens {
  const ids = completionIds ?? (labels ? idsFromLabels(labels) : undefined);
  if (!promptIds) throw new SamplerError(`${what}: returnTokens was requested but the server sent no prompt_token_ids (vLLM needs --return-tokens-as-token-ids or a version with return_token_ids)`, { retryable: false });
  if (!ids) throw new SamplerError(`${what}: returnTokens was requested but the server sent no token_ids`, { retryable: false });
  if (!logprobs) throw new SamplerError(`${what}: returnTokens was requested but the server sent no logprobs`, { retryable: false });
  if (logprobs.length !== ids.length) {
    throw new SamplerError(`${what}: ${ids.length} completion ids but ${logprobs.length} logprobs`, { retryable: false });
  }
  return {
    promptIds: [...promptIds],
    completionIds: [...ids],
    completionLogprobs: logprobs.map((l) => (l === null ? Number.NEGATIVE_INFINITY : l)),
  };
}

/** Converts a chat completion body; `wantTokens` makes missing token fields an error. */
export function toChatResponse(raw: unknown, fallbackModel: string, wantTokens: boolean): ChatResponse {
  const parsed = ChatCompletionBody.safeParse(raw);
  if (!parsed.success) {
    throw new SamplerError(`malformed chat completion from server: ${formatZodError(parsed.error)}`, { retryable: false });
  }
  const body = parsed.data;
  const choices: ChatChoice[] = body.choices.map((c, i) => {
    const toolCalls: ToolCall[] = [];
    for (const [j, call] of (c.message.tool_calls ?? []).entries()) {
      if (!call.function) continue;
      toolCalls.push({
        id: call.id ?? `call_${i}_${j}`,
        type: 'function',
        function: { name: call.function.name, arguments: call.function.arguments ?? '' },
      });
    }
    const message: AssistantMessage = { role: 'assistant', content: c.message.content ?? null };
    if (toolCalls.length) message.tool_calls = toolCalls;
    const choice: ChatChoice = { message, finishReason: finishReason(c.finish_reason, toolCalls.length > 0) };
    if (wantTokens) {
      const content = c.logprobs?.content ?? undefined;
      choice.tokens = buildTokens(
        `chat choice ${i}`,
        body.prompt_token_ids ?? c.prompt_token_ids,
        c.token_ids,
        content?.map((t) => t.token),
        content?.map((t) => t.logprob),
      );
    }
    return choice;
  });
  const response: ChatResponse = {
    choices,
    usage: { promptTokens: body.usage?.prompt_tokens ?? 0, completionTokens: body.usage?.completion_tokens ?? 0 },
    model: body.model ?? fallbackModel,
  };
  if (body.policy_version !== undefined && body.policy_version !== null) response.policyVersion = body.policy_version;
  return response;
}

/** Converts a text completion body; `wantTokens` makes missing token fields an error. */
export function toCompletionResponse(raw: unknown, fallbackModel: string, wantTokens: boolean): CompletionResponse {
  const parsed = CompletionBody.safeParse(raw);
  if (!parsed.success) {
    throw new SamplerError(`malformed completion from server: ${formatZodError(parsed.error)}`, { retryable: false });
  }
  const body = parsed.data;
  const choices: CompletionChoice[] = body.choices.map((c, i) => {
    const choice: CompletionChoice = { text: c.text ?? '', finishReason: c.finish_reason === 'length' ? 'length' : 'stop' };
    if (wantTokens) {
      choice.tokens = buildTokens(
        `completion choice ${i}`,
        c.prompt_token_ids ?? body.prompt_token_ids,
        c.token_ids,
        c.logprobs?.tokens ?? undefined,
        c.logprobs?.token_logprobs ?? undefined,
      );
    }
    return choice;
  });
  const response: CompletionResponse = {
    choices,
    usage: { promptTokens: body.usage?.prompt_tokens ?? 0, completionTokens: body.usage?.completion_tokens ?? 0 },
    model: body.model ?? fallbackModel,
  };
  if (body.policy_version !== undefined && body.policy_version !== null) response.policyVersion = body.policy_version;
  return response;
}
