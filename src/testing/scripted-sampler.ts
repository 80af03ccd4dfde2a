import { SamplerError } from '../core/errors.js';
import type { AssistantMessage, ToolCall } from '../core/messages.js';
import type {
  CallOptions,
  ChatChoice,
  ChatRequest,
  ChatResponse,
  CompletionChoice,
  CompletionRequest,
  CompletionResponse,
  FinishReason,
  Sampler,
} from '../core/sampler.js';
import type { TurnTokens } from '../core/trajectory.js';
import { fakeEncode, fakeLogprobs, fakeRenderChat } from './fake-tokenizer.js';

/** One scripted reply: plain text, an assistant message, or an error to throw. */
export type ScriptedReply =
  | string
  | {
      content?: string | null;
      tool_calls?: ToolCall[];
      finishReason?: FinishReason;
      /** Explicit tokens for this reply; otherwise fake ones are made when `fakeTokens` is on. */
      tokens?: TurnTokens;
    }
  | Error;

/** A reply computed from the request (`index` counts replies produced so far, from 0). */
export type ScriptedResponder = (request: ChatRequest, index: number) => ScriptedReply | Promise<ScriptedReply>;

export interface ScriptedSamplerOptions {
  /** Model name reported in responses. Default 'scripted'. */
  model?: string;
  /** Replies handed out in order, one per choice. Used before `respond`. */
  script?: ScriptedReply[];
  /** Computes replies once `script` is used up (or instead of it). */
  respond?: ScriptedResponder;
  /**
   * Attach fake token ids and logprobs (see `fakeEncode`) to every choice, whether or not the
   * request asked for `returnTokens`. Default: only when `sampling.returnTokens` is set.
   */
  fakeTokens?: boolean;
  /** Weights version reported on responses. */
  policyVersion?: number;
  /** Delay before each response, in ms (0 = none). Honors the abort signal. */
  latencyMs?: number;
}

/** Thrown when a `ScriptedSampler` is called after its script ran out and it has no `respond`. */
export class ScriptExhaustedError extends Error {
  override name = 'ScriptExhaustedError';
}

/** A recorded call: the request as received (a structured clone, so later mutation does not leak). */
export interface ScriptedCall {
  kind: 'chat' | 'complete';
  request: ChatRequest | CompletionRequest;
}

/**
 * A deterministic `Sampler` for unit tests. It records every call in `calls`, answers from a script
 * (or a function of the request), and throws loudly when the script runs out, so a test never passes
 * on replies it did not plan for.
 */
export class ScriptedSampler implements Sampler {
  readonly model: string;
  readonly calls: ScriptedCall[] = [];
  private readonly script: ScriptedReply[];
  private readonly respond: ScriptedResponder | undefined;
  private readonly options: ScriptedSamplerOptions;
  private produced = 0;
  /** Calls that found the script empty (each threw `ScriptExhaustedError`). */
  overruns = 0;

  constructor(options: ScriptedSamplerOptions = {}) {
    this.model = options.model ?? 'scripted';
    this.script = [...(options.script ?? [])];
    this.respond = options.respond;
    this.options = options;
    if (!options.script && !options.respond) {
      throw new Error('ScriptedSampler needs `script` or `respond`');
    }
  }

  /**
   * Throws when a call overran the script (useful because environments record sampler errors on the
   * rollout instead of propagating them) or, with `{ allUsed: true }`, when replies are left over.
   */
  assertDone(options: { allUsed?: boolean } = {}): void {
    if (this.overruns > 0) throw new ScriptExhaustedError(`ScriptedSampler: ${this.overruns} call(s) overran the script`);
    if (options.allUsed && this.script.length > 0) {
      throw new Error(`ScriptedSampler: ${this.script.length} scripted replies were never used`);
    }
  }

  /** Replies still waiting in the script. */
  get remaining(): number {
    return this.script.length;
  }

  /** The chat requests received so far, in order. */
  get chatRequests(): ChatRequest[] {
    return this.calls.filter((c) => c.kind === 'chat').map((c) => c.request as ChatRequest);
  }

  async chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse> {
    this.calls.push({ kind: 'chat', request: structuredClone(request) });
    await this.wait(options?.signal);
    const n = request.n ?? 1;
    const wantTokens = this.options.fakeTokens ?? request.sampling?.returnTokens ?? false;
    const promptIds = wantTokens ? fakeEncode(fakeRenderChat(request.messages)) : [];
    const choices: ChatChoice[] = [];
    let completionTokens = 0;
    for (let i = 0; i < n; i++) {
      const reply = await this.next(request);
      const message: AssistantMessage = { role: 'assistant', content: reply.content ?? null };
      if (reply.tool_calls?.length) message.tool_calls = reply.tool_calls;
      const finishReason: FinishReason = reply.finishReason ?? (message.tool_calls ? 'tool_calls' : 'stop');
      const tokens = reply.tokens ?? (wantTokens ? makeTokens(promptIds, message.content ?? '') : undefined);
      completionTokens += tokens?.completionIds.length ?? fakeEncode(message.content ?? '').length;
      choices.push(tokens ? { message, finishReason, tokens } : { message, finishReason });
    }
    const promptTokens = fakeEncode(fakeRenderChat(request.messages)).length;
    const response: ChatResponse = { choices, usage: { promptTokens, completionTokens }, model: this.model };
    if (this.options.policyVersion !== undefined) response.policyVersion = this.options.policyVersion;
    return response;
  }

  async complete(request: CompletionRequest, options?: CallOptions): Promise<CompletionResponse> {
    this.calls.push({ kind: 'complete', request: structuredClone(request) });
    await this.wait(options?.signal);
    const promptText = typeof request.prompt === 'string' ? request.prompt : '';
    const asChat: ChatRequest = { messages: [{ role: 'user', content: promptText }], sampling: request.sampling };
    const promptIds = typeof request.prompt === 'string' ? fakeEncode(request.prompt) : [...request.prompt];
    const wantTokens = this.options.fakeTokens ?? request.sampling?.returnTokens ?? false;
    const choices: CompletionChoice[] = [];
    let completionTokens = 0;
    for (let i = 0; i < (request.n ?? 1); i++) {
      const reply = await this.next(asChat);
      const text = reply.content ?? '';
      const tokens = reply.tokens ?? (wantTokens ? makeTokens(promptIds, text) : undefined);
      completionTokens += fakeEncode(text).length;
      const finishReason = reply.finishReason ?? 'stop';
      choices.push(tokens ? { text, finishReason, tokens } : { text, finishReason });
    }
    const response: CompletionResponse = {
      choices,
      usage: { promptTokens: promptIds.length, completionTokens },
      model: this.model,
    };
    if (this.options.policyVersion !== undefined) response.policyVersion = this.options.policyVersion;
    return response;
  }

  private async next(request: ChatRequest): Promise<Exclude<ScriptedReply, string | Error>> {
    const index = this.produced++;
    let reply: ScriptedReply;
    if (this.script.length > 0) reply = this.script.shift()!;
    else if (this.respond) reply = await this.respond(request, index);
    else {
      const last = request.messages.at(-1);
      this.overruns++;
      throw new ScriptExhaustedError(
        `ScriptedSampler script exhausted after ${index} replies; unexpected call with last message ` +
          `${JSON.stringify(last?.content ?? null).slice(0, 200)}`,
      );
    }
    if (reply instanceof Error) throw reply;
    return typeof reply === 'string' ? { content: reply } : reply;
  }

  private async wait(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw new SamplerError('request aborted', { retryable: false, cause: signal.reason });
    const ms = this.options.latencyMs ?? 0;
    if (ms <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(new SamplerError('request aborted', { retryable: false, cause: signal.reason }));
        },
        { once: true },
      );
    });
  }
}

function makeTokens(promptIds: number[], text: string): TurnTokens {
  const completionIds = fakeEncode(text);
  return { promptIds: [...promptIds], completionIds, completionLogprobs: fakeLogprobs(completionIds) };
}
