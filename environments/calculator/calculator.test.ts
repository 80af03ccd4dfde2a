import { describe, expect, it } from 'vitest';
import { ConfigError, Rng, type ToolCall } from '../../src/core/index.js';
import { ScriptedSampler } from '../../src/testing/index.js';
import { replayDemonstration, scoreCompletion } from '../replay-demo.js';
import { evaluateExpression, formatResult } from './expression.js';
import { loadEnvironment } from './index.js';

const call = (args: string): ToolCall => ({ id: 'c1', type: 'function', function: { name: 'calculate', arguments: args } });

describe('evaluateExpression', () => {
  it('honours precedence, parentheses and unary minus', () => {
    expect(evaluateExpression('2+3*4')).toBe(14);
    expect(evaluateExpression('(2+3)*4')).toBe(20);
    expect(evaluateExpression('-3 - -2')).toBe(-1);
    expect(evaluateExpression('7 / 2')).toBe(3.5);
    expect(evaluateExpression('12 x 3')).toBe(36);
    expect(formatResult(1 / 3)).toBe('0.333333');
  });

  it('rejects anything that is not arithmetic', () => {
    expect(() => evaluateExpression('process.exit(1)')).toThrow(/unexpected 'p'/);
    expect(() => evaluateExpression('(1+2')).toThrow(/missing '\)'/);
    expect(() => evaluateExpression('1/0')).toThrow(/division by zero/);
    expect(() => evaluateExpression('')).toThrow(/empty/);
  });

  it('reads hexadecimal, rejects juxtaposed numbers and reports overflow as an error', () => {
    expect(evaluateExpression('0x10')).toBe(16);
    expect(evaluateExpression('0x10 + 1')).toBe(17);
    expect(evaluateExpression('2x3')).toBe(6); // x is still multiplication after a decimal number
    expect(() => evaluateExpression('1 2')).toThrow(/two numbers without an operator/);
    expect(() => evaluateExpression('3 (4)')).toThrow(/two numbers without an operator/);
    expect(() => evaluateExpression('1e308')).toThrow(/unexpected 'e'/);
    expect(() => evaluateExpression('9'.repeat(200) + ' * ' + '9'.repeat(200))).toThrow(/too large/);
  });
});

describe('calculator environment', () => {
  it('demonstrate() replayed through a rollout calls the tool, gets identical replies and scores 1', async () => {
    const env = loadEnvironment({ count: 20 });
    for (const example of env.dataset) {
      const r = await replayDemonstration({ env, example });
      expect(r.completion).toEqual(r.demo);
      expect(r.stopReason).toBe('terminated');
      expect(r.scores.reward).toBe(1);
      expect(r.scores.metrics).toMatchObject({ correct: 1, tool_used: 1, correct_with_tool: 1 });
      expect(r.sampler.chatRequests[0]!.tools![0]!.function.name).toBe('calculate');
    }
  });

  it('text tool-call mode works end to end for models without tool parsing', async () => {
    const env = loadEnvironment({ count: 10, textToolCalls: true, digits: 2 });
    expect(env.dataset[0]!.prompt[0]!.content).toContain('<tool_call>');
    for (const example of env.dataset) {
      const r = await replayDemonstration({ env, example });
      expect(r.completion).toEqual(r.demo);
      expect(r.scores.reward).toBe(1);
    }
  });

  it('a correct answer without the tool scores 0 but counts as correct', async () => {
    const env = loadEnvironment({ count: 3 });
    const ex = env.dataset[0]!;
    const s = await scoreCompletion(env, ex, [{ role: 'assistant', content: `<answer>${String(ex.answer)}</answer>` }]);
    expect(s.reward).toBe(0);
    expect(s.metrics).toMatchObject({ correct: 1, tool_used: 0 });
  });

  it('bad tool calls get error messages and do not count as tool use', async () => {
    const env = loadEnvironment({ count: 3 });
    const ex = env.dataset[0]!;
    const sampler = new ScriptedSampler({
      script: [
        { content: null, tool_calls: [call('{"expression": "2+"}')] },
        { content: null, tool_calls: [call('{"expr": "2+2"}')] },
        { content: null, tool_calls: [call('not json')] },
        `<answer>${String(ex.answer)}</answer>`,
      ],
    });
    const out = await env.rollout(ex, { sampler, sampling: {}, rng: new Rng(0) });
    const tools = out.completion.filter((m) => m.role === 'tool').map((m) => m.content);
    expect(tools[0]).toMatch(/^Error: tool 'calculate' failed: unexpected end/);
    expect(tools[1]).toMatch(/^Error: invalid arguments for tool 'calculate': expression/);
    expect(tools[2]).toMatch(/^Error: tool 'calculate' got arguments that are not a JSON object/);
    expect(out.stopReason).toBe('terminated');
    const s = await env.rubric.score({ ...out, answer: ex.answer, info: ex.info, task: undefined, parser: env.parser });
    expect(s.metrics).toMatchObject({ correct: 1, tool_used: 0, correct_with_tool: 0 });
  });

  it('a noisy teacher is wrong about as often as asked', async () => {
    const env = loadEnvironment({ count: 400, demoErrorRate: 0.25 });
    const rng = new Rng(3);
    let wrong = 0;
    for (const ex of env.dataset) if ((await scoreCompletion(env, ex, env.demonstrate!(ex, rng))).reward === 0) wrong++;
    expect(wrong / 400).toBeGreaterThan(0.17);
    expect(wrong / 400).toBeLessThan(0.33);
  });

  it('validates args', () => {
    expect(() => loadEnvironment({ terms: 1 })).toThrow(ConfigError);
    expect(() => loadEnvironment({ tools: [] })).toThrow(/valid args: digits, terms/);
  });
});
