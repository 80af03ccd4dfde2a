import { AssistantMessage, ChatMessage } from '../core/messages.js';
import type { TokenUsage } from '../core/rollout-result.js';
import type { FinishReason } from '../core/sampler.js';
import type { Turn } from '../core/trajectory.js';
import { toChatResponse, toCompletionResponse } from '../samplers/openai-response.js';
import type { ProxyCall } from './proxy-call.js';

/**
 * How a rollout's recorded calls line up as token sequences. A call *extends* the previous one when
 * its prompt ids start with the previous call's prompt + completion ids (the trainer's packer merges
 * them into one sequence); otherwise it *splits* (a new sequence starts: the agent rewrote history,
 * or the chat template re-rendered earlier turns differently).
 */
export interface TokenMergeStats {
  /** Calls recorded (answered or not). */
  calls: number;
  /** Calls that became turns (the upstream answered 2xx with a usable body). */
  turns: number;
  /** Turns whose prompt extends the previous turn's tokens. */
  extensions: number;
  /** Turns whose prompt does not (each starts a new training sequence). */
  splits: number;
  /** Turns without token ids (the upstream did not return them): not trainable. */
  missingTokens: number;
  /** Calls that failed (upstream error, aborted) and so are not turns. */
  failedCalls: number;
  /** Calls the agent asked to stream. */
  streamedCalls: number;
  /** Training sequences the turns pack into (1 + splits when every turn has tokens). */
  sequences: number;
}

/** The turns of one rollout, with their merge statistics, summed usage and per-call problems. */
export interface CallsToTurnsResult {
  turns: Turn[];
  stats: TokenMergeStats;
  usage: TokenUsage;
  /** Why a call is missing from `turns` or has no tokens, by call index. */
  problems: { index: number; message: string }[];
}

/**
 * Turns a rollout's recorded proxy calls into `Turn`s, in the order the calls arrived: one turn per
 * answered call (choice 0), with the exact ids and logprobs the upstream returned. Nothing is
 * re-tokenized or merged here; merging is the trainer's packer's job, and `stats` says how the
 * turns will pack.
 */
export function callsToTurns(options: { calls: readonly ProxyCall[]; model?: string }): CallsToTurnsResult {
  const model = options.model ?? '';
  const calls = [...options.calls].sort((a, b) => a.index - b.index);
  const turns: Turn[] = [];
  const problems: { index: number; message: string }[] = [];
  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
  const stats: TokenMergeStats = { calls: calls.length, turns: 0, extensions: 0, splits: 0, missingTokens: 0, failedCalls: 0, streamedCalls: 0, sequences: 0 };
  let previous: { promptIds: readonly number[]; completionIds: readonly number[] } | undefined;
  for (const call of calls) {
    if (call.streamed) stats.streamedCalls++;
    if (call.error || call.response === undefined) {
      stats.failedCalls++;
      problems.push({ index: call.index, message: call.error?.message ?? 'no response' });
      continue;
    }
    let turn: Turn;
    try {
      turn = call.endpoint === 'chat' ? chatTurn(call, model, problems) : completionTurn(call, model, problems);
    } catch (error) {
      stats.failedCalls++;
      problems.push({ index: call.index, message: (error as Error).message });
      continue;
    }
    const u = (call.response as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null }).usage;
    if (u && typeof u.prompt_tokens === 'number') usage.promptTokens += u.prompt_tokens;
    if (u && typeof u.completion_tokens === 'number') usage.completionTokens += u.completion_tokens;
    turns.push(turn);
    const tokens = turn.tokens;
    if (!tokens) {
      stats.missingTokens++;
      previous = undefined;
      continue;
    }
    if (!previous) stats.sequences++;
    else if (extendsPrevious(tokens.promptIds, previous.promptIds, previous.completionIds)) stats.extensions++;
    else {
      stats.splits++;
      stats.sequences++;
    }
    previous = tokens;
  }
  stats.turns = turns.length;
  return { turns, stats, usage, problems };
}

/** True when `prompt` starts with `prevPrompt` followed by `prevCompletion`. */
export function extendsPrevious(prompt: readonly number[], prevPrompt: readonly number[], prevCompletion: readonly number[]): boolean {
  if (prompt.length < prevPrompt.length + prevCompletion.length) return false;
  for (let i = 0; i < prevPrompt.length; i++) if (prompt[i] !== prevPrompt[i]) return false;
  const offset = prevPrompt.length;
  for (let i = 0; i < prevCompletion.length; i++) if (prompt[offset + i] !== prevCompletion[i]) return false;
  return true;
}

function chatTurn(call: ProxyCall, model: string, problems: { index: number; message: string }[]): Turn {
  let response;
  try {
    response = toChatResponse(call.response, model, true);
  } catch (error) {
    problems.push({ index: call.index, message: `no tokens: ${(error as Error).message}` });
    response = toChatResponse(call.response, model, false);
  }
  const choice = response.choices[0];
  if (!choice) throw new Error('upstream returned no choices');
  const turn: Turn = {
    prompt: toChatMessages(call.request.messages),
    completion: choice.message,
    finishReason: choice.finishReason,
  };
  if (choice.tokens) turn.tokens = choice.tokens;
  if (response.policyVersion !== undefined) turn.policyVersion = response.policyVersion;
  return turn;
}

function completionTurn(call: ProxyCall, model: string, problems: { index: number; message: string }[]): Turn {
  let response;
  try {
    response = toCompletionResponse(call.response, model, true);
  } catch (error) {
    problems.push({ index: call.index, message: `no tokens: ${(error as Error).message}` });
    response = toCompletionResponse(call.response, model, false);
  }
  const choice = response.choices[0];
  if (!choice) throw new Error('upstream returned no choices');
  const prompt = call.request.prompt;
  const finishReason: FinishReason = choice.finishReason;
  const turn: Turn = {
    prompt: [{ role: 'user', content: typeof prompt === 'string' ? prompt : JSON.stringify(prompt) }],
    completion: { role: 'assistant', content: choice.text },
    finishReason,
  };
  if (choice.tokens) turn.tokens = choice.tokens;
  if (response.policyVersion !== undefined) turn.policyVersion = response.policyVersion;
  return turn;
}

/** Best-effort conversion of the agent's (already flattened) messages to keiko's message type. */
export function toChatMessages(raw: unknown): ChatMessage[] {
  if (!Array.isArray(raw)) return [];
  const out: ChatMessage[] = [];
  for (const item of raw) {
    const parsed = ChatMessage.safeParse(item);
    if (parsed.success) {
      out.push(parsed.data);
      continue;
    }
    const m = (item ?? {}) as { role?: unknown; content?: unknown; tool_call_id?: unknown };
    const content = typeof m.content === 'string' ? m.content : m.content == null ? '' : JSON.stringify(m.content);
    if (m.role === 'assistant') out.push(AssistantMessage.parse({ role: 'assistant', content }));
    else if (m.role === 'tool') out.push({ role: 'tool', content, tool_call_id: typeof m.tool_call_id === 'string' ? m.tool_call_id : '' });
    else if (m.role === 'system') out.push({ role: 'system', content });
    else out.push({ role: 'user', content });
  }
  return out;
}
