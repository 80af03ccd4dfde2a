import { z } from 'zod';
import {
  ConfigError,
  safeParseJson,
  unknownNameMessage,
  type AssistantMessage,
  type ChatMessage,
} from '../core/index.js';
import { MultiTurnEnv, type EnvOptions, type EnvReply, type EnvState, type HookArgs } from './multi-turn-env.js';
import { TOOL_ERROR_PREFIX, type Tool, type ToolCallOutcome, type ToolContext } from './tool.js';

/** One tool call as recorded in `state.toolCalls`. */
export interface ToolCallRecord {
  name: string;
  ok: boolean;
  /** Why it failed (invalid_json, invalid_args, unknown_tool, tool_error). */
  reason?: string;
}

/** State keys a `ToolEnv` maintains. */
export interface ToolState extends EnvState {
  toolCalls: ToolCallRecord[];
}

export interface ToolEnvOptions<S extends ToolState = ToolState> extends EnvOptions {
  // Tools are generic in their state; the env hands them its own.
  tools: readonly Tool<S>[] | readonly Tool[];
  /** Model turns before the rollout ends `truncated`. Default 10. */
  maxTurns?: number;
  /** Extends the initial state (`toolCalls` is added for you). */
  setupState?: (args: { example: import('../core/index.js').Example; state: S; rng: import('../core/index.js').Rng }) => S | void | Promise<S | void>;
  /**
   * Also accept tool calls written in the text as `<tool_call>{"name": …, "arguments": {…}}</tool_call>`
   * (for models without server-side tool parsing). Their results come back as a user message of
   * `<tool_response>` blocks, so earlier turns are never rewritten. Default false.
   */
  textToolCalls?: boolean;
}

const TextToolCall = z.object({
  name: z.string(),
  arguments: z.union([z.record(z.string(), z.unknown()), z.string()]).default({}),
});

/**
 * An environment whose model calls tools until it answers without one. Tools are zod-typed
 * functions (see `defineTool`); every malformed call becomes an error message back to the model,
 * and every call is recorded in `state.toolCalls`.
 */
export class ToolEnv<S extends ToolState = ToolState> extends MultiTurnEnv<S> {
  private readonly toolMap: ReadonlyMap<string, Tool<S>>;
  private readonly textToolCalls: boolean;
  private readonly userSetup: ToolEnvOptions<S>['setupState'];

  constructor(options: ToolEnvOptions<S>) {
    const tools = (options.tools ?? []) as readonly Tool<S>[];
    if (!Array.isArray(options.tools) || tools.length === 0) {
      throw new ConfigError(`tool environment '${options.name}' needs at least one tool (see defineTool)`);
    }
    const map = new Map<string, Tool<S>>();
    for (const t of tools) {
      if (!t || typeof t.call !== 'function' || !t.schema) {
        throw new ConfigError(`tool environment '${options.name}': every tool must come from defineTool({...})`);
      }
      if (map.has(t.name)) throw new ConfigError(`tool environment '${options.name}' has two tools named '${t.name}'`);
      map.set(t.name, t);
    }
    const { setupState, ...rest } = options;
    super({ ...rest, maxTurns: options.maxTurns ?? 10, tools: tools.map((t) => t.schema) });
    this.toolMap = map;
    this.textToolCalls = options.textToolCalls ?? false;
    this.userSetup = setupState;
  }

  protected override async setupState(args: Parameters<MultiTurnEnv<S>['setupState']>[0]): Promise<S> {
    args.state.toolCalls = [];
    const returned = await this.userSetup?.(args);
    const state = returned ?? args.state;
    if (!Array.isArray(state.toolCalls)) state.toolCalls = [];
    return state;
  }

  protected override async isCompleted({ messages }: HookArgs<S>): Promise<boolean> {
    const last = messages[messages.length - 1];
    if (!last || last.role !== 'assistant') return false;
    if (last.tool_calls?.length) return false;
    return !(this.textToolCalls && parseTextToolCalls(last.content ?? '').length > 0);
  }

  protected override async envResponse({ messages, state, example, rng, signal }: HookArgs<S>): Promise<EnvReply> {
    const last = messages[messages.length - 1] as AssistantMessage;
    const ctx: ToolContext<S> = { state, example, rng, ...(signal ? { signal } : {}) };
    if (last.tool_calls?.length) {
      const replies: ChatMessage[] = [];
      for (const call of last.tool_calls) {
        const outcome = await this.run(call.function.name, call.function.arguments, ctx);
        replies.push({ role: 'tool', tool_call_id: call.id, name: call.function.name, content: outcome.content });
      }
      return replies;
    }
    const calls = parseTextToolCalls(last.content ?? '');
    const blocks: string[] = [];
    for (const call of calls) {
      const outcome = call.ok
        ? await this.run(call.name, call.arguments, ctx)
        : ({ ok: false, reason: 'invalid_json', content: TOOL_ERROR_PREFIX + call.error } as ToolCallOutcome);
      if (!call.ok) state.toolCalls.push({ name: '(unparsed)', ok: false, reason: 'invalid_json' });
      blocks.push(`<tool_response>${outcome.content}</tool_response>`);
    }
    return { role: 'user', content: blocks.join('\n') };
  }

  private async run(name: string, rawArguments: string, ctx: ToolContext<S>): Promise<ToolCallOutcome> {
    const tool = this.toolMap.get(name);
    let outcome: ToolCallOutcome;
    if (!tool) {
      outcome = {
        ok: false,
        reason: 'unknown_tool',
        content: TOOL_ERROR_PREFIX + unknownNameMessage('tool', name, [...this.toolMap.keys()]),
      };
    } else {
      outcome = await tool.call(rawArguments, ctx);
    }
    ctx.state.toolCalls.push(outcome.ok ? { name, ok: true } : { name, ok: false, reason: outcome.reason });
    return outcome;
  }
}

/** Builds a `ToolEnv` from one options object. */
export function toolEnv<S extends ToolState = ToolState>(options: ToolEnvOptions<S>): ToolEnv<S> {
  return new ToolEnv(options);
}

type TextCall = { ok: true; name: string; arguments: string } | { ok: false; error: string };

/** Reads `<tool_call>{…}</tool_call>` blocks out of assistant text. */
export function parseTextToolCalls(text: string): TextCall[] {
  const out: TextCall[] = [];
  const re = /<tool_call>([\s\S]*?)(?:<\/tool_call>|$)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0] === '') break;
    const parsed = safeParseJson(m[1]!.trim(), TextToolCall);
    if (!parsed.success) {
      out.push({ ok: false, error: `could not read tool call (${parsed.error}); write <tool_call>{"name": "...", "arguments": {...}}</tool_call>` });
      continue;
    }
    const args = parsed.data.arguments;
    out.push({ ok: true, name: parsed.data.name, arguments: typeof args === 'string' ? args : JSON.stringify(args) });
  }
  return out;
}

/**
 * Names of tools that were called successfully in a completion, read from the messages alone
 * (native tool messages, or `<tool_response>` blocks for text tool calls), so it works on
 * demonstrations as well as rollouts.
 */
export function successfulToolCalls(completion: readonly ChatMessage[]): string[] {
  const names: string[] = [];
  const pending = new Map<string, string>();
  let textCalls: string[] = [];
  for (const m of completion) {
    if (m.role === 'assistant') {
      for (const c of m.tool_calls ?? []) pending.set(c.id, c.function.name);
      textCalls = (m.tool_calls?.length ? [] : parseTextToolCalls(m.content ?? '')).map((c) => (c.ok ? c.name : ''));
    } else if (m.role === 'tool') {
      const name = pending.get(m.tool_call_id) ?? m.name;
      if (name && !m.content.startsWith(TOOL_ERROR_PREFIX)) names.push(name);
    } else if (m.role === 'user' && textCalls.length) {
      const responses = [...m.content.matchAll(/<tool_response>([\s\S]*?)<\/tool_response>/g)].map((r) => r[1]!);
      responses.forEach((r, i) => {
        const name = textCalls[i];
        if (name && !r.startsWith(TOOL_ERROR_PREFIX)) names.push(name);
      });
      textCalls = [];
    }
  }
  return names;
}
