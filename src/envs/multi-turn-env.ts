import { z } from 'zod';
import {
  ChatMessage,
  ConfigError,
  EnvError,
  KeikoError,
  SamplerError,
  describeError,
  formatZodError,
  type Environment,
  type ErrorRecord,
  type Example,
  type Rng,
  type RolloutContext,
  type RolloutOutput,
  type Rubric,
  type StopReason,
  type TokenUsage,
  type ToolSchema,
  type Turn,
} from '../core/index.js';
import { buildEnvDatasets, type EnvDatasetOptions } from './env-datasets.js';

/** Rollout state: free-form, handed to hooks and reward functions. */
export type EnvState = Record<string, unknown>;

/** What a hook sees: the conversation so far, the rollout state, the example and the rollout's rng. */
export interface HookArgs<S extends EnvState = EnvState> {
  /** Prompt plus completion so far. */
  messages: ChatMessage[];
  /** Messages after the prompt so far. */
  completion: ChatMessage[];
  state: S;
  example: Example;
  /** Model turns taken so far. */
  turn: number;
  rng: Rng;
  /** Aborted when the rollout times out or the run stops: long hooks should stop then. */
  signal?: AbortSignal;
}

/** An environment reply: a string (sent as a user message), one message, or several. */
export type EnvReply = string | ChatMessage | readonly ChatMessage[];

type Awaitable<T> = T | Promise<T>;

/** Options shared by every keiko environment. */
export interface EnvOptions extends EnvDatasetOptions {
  /** Shown in tables and run folders. */
  name: string;
  rubric: Rubric;
  /** Handed to reward functions as `parser`. */
  parser?: unknown;
  /** Scripted solver for SFT warm starts. */
  demonstrate?: (example: Example, rng: Rng) => ChatMessage[];
}

export interface MultiTurnEnvOptions<S extends EnvState = EnvState> extends EnvOptions {
  /** Model turns per rollout before it ends `truncated`. Default 10. */
  maxTurns?: number;
  /** Tool schemas sent with every model call. */
  tools?: readonly ToolSchema[];
  /** Builds the initial rollout state; may mutate and/or return it. */
  setupState?: (args: { example: Example; state: S; rng: Rng }) => Awaitable<S | void>;
  /** Checked after each model turn and after each environment reply. Default: `state.done === true`. */
  isCompleted?: (args: HookArgs<S>) => Awaitable<boolean>;
  /** The environment's answer to the model's last message. */
  envResponse?: (args: HookArgs<S>) => Awaitable<EnvReply>;
}

/**
 * The multi-turn protocol: ask the model, append its message, stop if the episode is complete,
 * otherwise append the environment's reply and repeat. Every model call becomes a `Turn` carrying
 * the sampler's token ids and logprobs. Budgets and `finishReason: 'length'` end the rollout
 * `truncated`; sampler and hook failures end it with `stopReason: 'error'` and an `error` record —
 * `rollout` itself never throws.
 *
 * Hooks come from the options, or from a subclass overriding `setupState`/`isCompleted`/`envResponse`.
 */
export class MultiTurnEnv<S extends EnvState = EnvState> implements Environment {
  readonly name: string;
  readonly dataset: readonly Example[];
  readonly evalDataset?: readonly Example[];
  readonly rubric: Rubric;
  readonly parser?: unknown;
  readonly tools?: readonly ToolSchema[];
  readonly maxTurns: number;
  private readonly hooks: MultiTurnEnvOptions<S>;

  constructor(options: MultiTurnEnvOptions<S>) {
    if (!options || typeof options !== 'object') throw new ConfigError('environment options must be an object');
    if (typeof options.name !== 'string' || options.name === '') throw new ConfigError('environment needs a non-empty `name`');
    if (!options.rubric || typeof options.rubric.score !== 'function') {
      throw new ConfigError(`environment '${options.name}' needs a rubric (e.g. rubric({ funcs: [...] }))`);
    }
    const maxTurns = options.maxTurns ?? 10;
    if (!Number.isInteger(maxTurns) || maxTurns < 1) {
      throw new ConfigError(`environment '${options.name}': maxTurns must be a positive integer, got ${maxTurns}`);
    }
    this.name = options.name;
    const { dataset, evalDataset } = buildEnvDatasets({ ...options, label: `environment '${options.name}'` });
    this.dataset = dataset;
    if (evalDataset) this.evalDataset = evalDataset;
    this.rubric = options.rubric;
    if (options.parser !== undefined) this.parser = options.parser;
    if (options.tools !== undefined) this.tools = options.tools;
    this.maxTurns = maxTurns;
    this.hooks = options;
    if (options.demonstrate) this.demonstrate = options.demonstrate;
    if (
      maxTurns > 1 &&
      options.envResponse === undefined &&
      Object.getPrototypeOf(this).envResponse === MultiTurnEnv.prototype.envResponse
    ) {
      throw new ConfigError(
        `environment '${options.name}' can take ${maxTurns} turns but has no envResponse; pass envResponse (or use singleTurnEnv)`,
      );
    }
  }

  demonstrate?(example: Example, rng: Rng): ChatMessage[];

  /** Builds the initial state. Override in subclasses or pass `setupState`. */
  protected async setupState(args: { example: Example; state: S; rng: Rng }): Promise<S> {
    const returned = await this.hooks.setupState?.(args);
    return returned ?? args.state;
  }

  /** Whether the episode has reached its end. Override or pass `isCompleted`. */
  protected async isCompleted(args: HookArgs<S>): Promise<boolean> {
    if (this.hooks.isCompleted) return this.hooks.isCompleted(args);
    return args.state['done'] === true;
  }

  /** The environment's reply to the model's last message. Override or pass `envResponse`. */
  protected async envResponse(args: HookArgs<S>): Promise<EnvReply> {
    if (!this.hooks.envResponse) throw new EnvError(`environment '${this.name}' has no envResponse`);
    return this.hooks.envResponse(args);
  }

  /** Tool schemas for one model call (subclasses may vary them by state). */
  /**
   * The messages the model is shown for its next turn (default: the whole conversation). An
   * environment can drop or shorten old observations here to fit a context budget; the model's
   * prompt then no longer extends the previous turn's, and the trainer splits the trajectory there.
   */
  protected contextMessages(messages: readonly ChatMessage[], _state: S): ChatMessage[] {
    return messages.slice();
  }

  protected toolsFor(_state: S): ToolSchema[] | undefined {
    return this.tools ? [...this.tools] : undefined;
  }

  async rollout(example: Example, ctx: RolloutContext): Promise<RolloutOutput> {
    const prompt = example.prompt.slice();
    const messages: ChatMessage[] = prompt.slice();
    const completion: ChatMessage[] = [];
    const turns: Turn[] = [];
    const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
    const maxTurns = Math.min(this.maxTurns, ctx.budget?.maxTurns ?? Infinity);
    const maxTotalTokens = ctx.budget?.maxTotalTokens ?? Infinity;
    let state = {} as S;
    let stopReason: StopReason = 'truncated';
    let error: ErrorRecord | undefined;
    const args = (): HookArgs<S> => ({ messages, completion, state, example, turn: turns.length, rng: ctx.rng, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    // Records a failure; errors that are not keiko's own are attributed by `wrap` (sampler or env).
    const fail = (e: unknown, wrap?: (message: string, options: { cause: unknown }) => KeikoError): void => {
      const known = e instanceof KeikoError || !wrap ? e : wrap(e instanceof Error ? e.message : String(e), { cause: e });
      error = describeError(known);
      stopReason = 'error';
    };

    try {
      state = await this.setupState({ example, state, rng: ctx.rng });
    } catch (e) {
      fail(e, (m, o) => new EnvError(`setupState failed: ${m}`, o));
      return { prompt, completion, turns, stopReason, state, usage, ...(error ? { error } : {}) };
    }

    for (;;) {
      if (turns.length >= maxTurns || usage.promptTokens + usage.completionTokens >= maxTotalTokens) {
        stopReason = 'truncated';
        break;
      }
      if (ctx.signal?.aborted) {
        fail(new SamplerError('rollout aborted', { retryable: false }));
        break;
      }
      const tools = this.toolsFor(state);
      let response;
      let shown: ChatMessage[];
      try {
        shown = this.contextMessages(messages, state);
      } catch (e) {
        fail(e, (m, o) => new EnvError(`environment '${this.name}' failed: ${m}`, o));
        break;
      }
      try {
        response = await ctx.sampler.chat(
          { messages: shown.slice(), ...(tools ? { tools } : {}), sampling: ctx.sampling, ...(ctx.groupId !== undefined ? { groupId: ctx.groupId } : {}) },
          ctx.signal ? { signal: ctx.signal } : undefined,
        );
      } catch (e) {
        fail(e, (m, o) => new SamplerError(m, o));
        break;
      }
      const choice = response?.choices?.[0];
      if (!choice || !choice.message) {
        fail(new SamplerError('sampler returned no choices'));
        break;
      }
      usage.promptTokens += response.usage?.promptTokens ?? 0;
      usage.completionTokens += response.usage?.completionTokens ?? 0;
      const assistant: ChatMessage = { ...choice.message, role: 'assistant', content: choice.message.content ?? null };
      const turn: Turn = {
        prompt: shown,
        completion: assistant,
        finishReason: choice.finishReason,
        ...(choice.tokens ? { tokens: choice.tokens } : {}),
        ...(response.policyVersion !== undefined ? { policyVersion: response.policyVersion } : {}),
      };
      turns.push(turn);
      messages.push(assistant);
      completion.push(assistant);

      try {
        if (await this.isCompleted(args())) {
          stopReason = choice.finishReason === 'length' ? 'truncated' : 'terminated';
          break;
        }
        if (choice.finishReason === 'length') {
          stopReason = 'truncated';
          break;
        }
        if (turns.length >= maxTurns || usage.promptTokens + usage.completionTokens >= maxTotalTokens) {
          stopReason = 'truncated';
          break;
        }
        const reply = normalizeReply(await this.envResponse(args()));
        messages.push(...reply);
        completion.push(...reply);
        if (await this.isCompleted(args())) {
          stopReason = 'terminated';
          break;
        }
      } catch (e) {
        fail(e, (m, o) => new EnvError(`environment '${this.name}' failed: ${m}`, o));
        break;
      }
    }
    return { prompt, completion, turns, stopReason, state, usage, ...(error ? { error } : {}) };
  }
}

/** Builds a `MultiTurnEnv` from one options object. */
export function multiTurnEnv<S extends EnvState = EnvState>(options: MultiTurnEnvOptions<S>): MultiTurnEnv<S> {
  return new MultiTurnEnv(options);
}

const Reply = z.array(ChatMessage);

function normalizeReply(reply: EnvReply): ChatMessage[] {
  if (typeof reply === 'string') return [{ role: 'user', content: reply }];
  const parsed = Reply.safeParse(Array.isArray(reply) ? reply : [reply]);
  if (!parsed.success) {
    throw new EnvError(`envResponse must return a string or chat messages: ${formatZodError(parsed.error)}`);
  }
  return parsed.data;
}
