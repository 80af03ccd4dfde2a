import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ConfigError, Rng, type ToolCall, type ToolMessage } from '../core/index.js';
import { ScriptedSampler } from '../testing/index.js';
import { rubric } from '../rubrics/index.js';
import { defineTool } from './tool.js';
import { successfulToolCalls, toolEnv, type ToolState } from './tool-env.js';

const add = defineTool({
  name: 'add',
  description: 'Adds two numbers.',
  parameters: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => a + b,
});
const explode = defineTool({
  name: 'explode',
  parameters: z.object({}),
  execute: () => {
    throw new Error('kaboom');
  },
});

interface Bank extends ToolState {
  balances: Record<string, number>;
  user: string;
}
/** A stateful tool: `account` is injected from rollout state and never shown to the model. */
const balance = defineTool<z.ZodObject<{ currency: z.ZodString; account: z.ZodString }>, Bank>({
  name: 'balance',
  parameters: z.object({ currency: z.string(), account: z.string() }),
  hidden: { account: ({ state }) => state.user },
  execute: ({ currency, account }, { state }) => `${state.balances[account]} ${currency}`,
});

const call = (name: string, args: string, id = `c-${name}`): ToolCall => ({ id, type: 'function', function: { name, arguments: args } });
const one = rubric({ funcs: [{ name: 'one', fn: () => 1 }] });
const rows = [{ question: 'what is 2+3?', answer: 5 }];
const env = toolEnv({ name: 'tools', dataset: rows, rubric: one, tools: [add, explode], maxTurns: 4 });
const ctx = (sampler: ScriptedSampler) => ({ sampler, sampling: {}, rng: new Rng(0) });

async function toolReplies(calls: ToolCall[]) {
  const sampler = new ScriptedSampler({ script: [{ content: null, tool_calls: calls }, 'done'] });
  const out = await env.rollout(env.dataset[0]!, ctx(sampler));
  return { out, tools: out.completion.filter((m): m is ToolMessage => m.role === 'tool'), sampler };
}

describe('defineTool', () => {
  it('turns the zod schema into an OpenAI tool schema', () => {
    expect(add.schema).toEqual({
      type: 'function',
      function: {
        name: 'add',
        description: 'Adds two numbers.',
        parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'], additionalProperties: false },
      },
    });
  });

  it('leaves hidden arguments out of the schema', () => {
    expect(balance.schema.function.parameters).toMatchObject({ properties: { currency: { type: 'string' } }, required: ['currency'] });
    expect(JSON.stringify(balance.schema)).not.toContain('account');
    expect(balance.hiddenArgs).toEqual(['account']);
  });

  it('rejects invalid tools at construction with the fix', () => {
    expect(() => defineTool({ name: 'when', parameters: z.object({ d: z.date() }), execute: () => 1 })).toThrow(
      /tool 'when': its parameters cannot be sent to a model as JSON Schema .*use JSON types/,
    );
    expect(() => defineTool({ name: 'bad name!', parameters: z.object({}), execute: () => 1 })).toThrow(/1-64 chars/);
    expect(() => defineTool({ name: 'x', parameters: z.string() as never, execute: () => 1 })).toThrow(/must be a z.object/);
    expect(() =>
      defineTool({ name: 'x', parameters: z.object({ a: z.string() }), hidden: { b: () => 'x' } as never, execute: () => 1 }),
    ).toThrow(/hidden argument 'b' is not in its parameters \(a\)/);
    expect(() => toolEnv({ name: 't', dataset: rows, rubric: one, tools: [] })).toThrow(ConfigError);
    expect(() => toolEnv({ name: 't', dataset: rows, rubric: one, tools: [add, add] })).toThrow(/two tools named 'add'/);
  });
});

describe('toolEnv', () => {
  it('sends tool schemas, runs calls, returns results as tool messages, ends when the model answers', async () => {
    const { out, tools, sampler } = await toolReplies([call('add', '{"a":2,"b":3}')]);
    expect(sampler.chatRequests[0]!.tools!.map((t) => t.function.name)).toEqual(['add', 'explode']);
    expect(tools).toEqual([{ role: 'tool', tool_call_id: 'c-add', name: 'add', content: '5' }]);
    expect(out.stopReason).toBe('terminated');
    expect(out.state['toolCalls']).toEqual([{ name: 'add', ok: true }]);
    expect(successfulToolCalls(out.completion)).toEqual(['add']);
    // The second model call saw the tool result.
    expect(sampler.chatRequests[1]!.messages.at(-1)).toMatchObject({ role: 'tool', content: '5' });
  });

  it('invalid tool-call JSON becomes an error message to the model', async () => {
    const { out, tools } = await toolReplies([call('add', '{"a": 2, "b": ')]);
    expect(tools[0]!.content).toMatch(/^Error: tool 'add' got arguments that are not a JSON object \(invalid JSON/);
    expect(out.error).toBeUndefined();
    expect(out.state['toolCalls']).toEqual([{ name: 'add', ok: false, reason: 'invalid_json' }]);
    expect((await toolReplies([call('add', '[1,2]')])).tools[0]!.content).toMatch(/not a JSON object/);
  });

  it('an unknown tool gets the list of available tools', async () => {
    const { tools, out } = await toolReplies([call('multiply', '{}')]);
    expect(tools[0]!.content).toBe("Error: unknown tool 'multiply'; available: add, explode");
    expect(out.state['toolCalls']).toEqual([{ name: 'multiply', ok: false, reason: 'unknown_tool' }]);
  });

  it('wrong argument types are explained per field', async () => {
    const { tools } = await toolReplies([call('add', '{"a":"two","b":3}')]);
    expect(tools[0]!.content).toMatch(/^Error: invalid arguments for tool 'add': a: .*expected number/i);
    const missing = await toolReplies([call('add', '{"a":1}')]);
    expect(missing.tools[0]!.content).toMatch(/b: /);
  });

  it('a throwing tool is reported to the model and the rollout goes on', async () => {
    const { tools, out } = await toolReplies([call('explode', ''), call('add', '{"a":1,"b":1}', 'c2')]);
    expect(tools.map((t) => t.content)).toEqual(["Error: tool 'explode' failed: kaboom", '2']);
    expect(out.stopReason).toBe('terminated');
    expect(successfulToolCalls(out.completion)).toEqual(['add']);
  });

  it('max turns ends a model that keeps calling tools, truncated', async () => {
    const sampler = new ScriptedSampler({ respond: () => ({ content: null, tool_calls: [call('add', '{"a":1,"b":1}')] }) });
    const out = await env.rollout(env.dataset[0]!, ctx(sampler));
    expect(out.stopReason).toBe('truncated');
    expect(out.turns).toHaveLength(4);
  });

  it('injects hidden arguments from rollout state; a model-sent value is ignored', async () => {
    const bank = toolEnv<Bank>({
      name: 'bank', dataset: rows, rubric: one, tools: [balance],
      setupState: ({ state }) => {
        state.balances = { alice: 10, mallory: 999 };
        state.user = 'alice';
      },
    });
    const sampler = new ScriptedSampler({
      script: [{ content: null, tool_calls: [call('balance', '{"currency":"EUR","account":"mallory"}')] }, 'ok'],
    });
    const out = await bank.rollout(bank.dataset[0]!, ctx(sampler));
    expect(out.completion[1]).toMatchObject({ role: 'tool', content: '10 EUR' });
    expect(out.state['toolCalls']).toEqual([{ name: 'balance', ok: true }]);
  });

  it('textToolCalls reads <tool_call> blocks and answers with <tool_response> user messages', async () => {
    const textEnv = toolEnv({ name: 'text', dataset: rows, rubric: one, tools: [add], textToolCalls: true });
    const sampler = new ScriptedSampler({
      script: ['<tool_call>{"name":"add","arguments":{"a":2,"b":3}}</tool_call>', '<tool_call>{"name":"add", oops</tool_call>', 'The answer is 5'],
    });
    const out = await textEnv.rollout(textEnv.dataset[0]!, ctx(sampler));
    expect(out.completion[1]).toEqual({ role: 'user', content: '<tool_response>5</tool_response>' });
    expect(out.completion[3]!.content).toMatch(/^<tool_response>Error: could not read tool call/);
    expect(out.stopReason).toBe('terminated');
    expect(successfulToolCalls(out.completion)).toEqual(['add']);
    // Earlier assistant turns are kept exactly as sampled.
    expect(out.turns[0]!.completion.tool_calls).toBeUndefined();
  });
});
