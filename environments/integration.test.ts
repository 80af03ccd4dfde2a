import { afterAll, describe, expect, it } from 'vitest';
import { Rng, type Environment, type Example } from '../src/core/index.js';
import { OpenAISampler } from '../src/samplers/index.js';
import { arithmeticRule, startTestServer, type TestServer, type TestServerRule } from '../src/testing/index.js';
import { loadBuiltinEnvironment } from './index.js';

/**
 * The built-in environments against keiko's real OpenAI-compatible test server over HTTP: tool
 * schemas, tool-call ids and tool messages must survive the OpenAI wire format both ways.
 */

/** Calls `calculate` on the user's expression, then answers with the tool's result. */
const calculatorRule: TestServerRule = (request) => {
  const last = request.messages.at(-1)!;
  if (last.role === 'tool') return `<answer>${last.content}</answer>`;
  const expression = [...request.messages].reverse().find((m) => m.role === 'user')!.content;
  if (!request.tools?.some((t) => t.function.name === 'calculate')) return 'no tools were sent';
  return { content: null, tool_calls: [{ name: 'calculate', arguments: JSON.stringify({ expression }) }] };
};

/** Binary search over the conversation's feedback. */
const guessRule: TestServerRule = (request) => {
  const max = Number(/1-(\d+)/.exec(request.messages.find((m) => m.role === 'user')!.content ?? '')![1]);
  let lo = 1;
  let hi = max;
  let last = 0;
  for (const m of request.messages) {
    if (m.role === 'assistant') last = Number(/<guess>(\d+)<\/guess>/.exec(m.content ?? '')![1]);
    if (m.role === 'user' && m.content === 'higher') lo = last + 1;
    if (m.role === 'user' && m.content === 'lower') hi = last - 1;
  }
  return `<guess>${Math.floor((lo + hi) / 2)}</guess>`;
};

const servers: TestServer[] = [];
async function samplerFor(rule: TestServerRule): Promise<OpenAISampler> {
  const server = await startTestServer({ rule });
  servers.push(server);
  return new OpenAISampler({ model: 'test-model', baseUrl: server.baseUrl, retry: { maxRetries: 0 } });
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function meanReward(env: Environment, sampler: OpenAISampler, examples: readonly Example[]) {
  const outs = await Promise.all(
    examples.map(async (ex) => {
      const out = await env.rollout(ex, { sampler, sampling: { temperature: 0 }, rng: new Rng(0) });
      const s = await env.rubric.score({ ...out, answer: ex.answer, info: ex.info, task: ex.task, parser: env.parser });
      return { out, s };
    }),
  );
  return { outs, mean: outs.reduce((n, o) => n + o.s.reward, 0) / outs.length };
}

describe('built-in environments over HTTP', () => {
  it('arithmetic: a solver server scores 1 on every example', async () => {
    const env = await loadBuiltinEnvironment('arithmetic', { count: 20, ops: '+-*' });
    const { mean, outs } = await meanReward(env, await samplerFor(arithmeticRule), env.dataset);
    expect(outs.every((o) => o.out.stopReason === 'terminated' && !o.out.error)).toBe(true);
    expect(mean).toBe(1);
  });

  it('calculator: native tool calls round-trip through the OpenAI format and score 1', async () => {
    const env = await loadBuiltinEnvironment('calculator', { count: 10 });
    const { mean, outs } = await meanReward(env, await samplerFor(calculatorRule), env.dataset);
    expect(outs[0]!.out.completion.map((m) => m.role)).toEqual(['assistant', 'tool', 'assistant']);
    expect(outs.every((o) => o.s.metrics['tool_used'] === 1)).toBe(true);
    expect(mean).toBe(1);
  });

  it('guess-number: a binary-search player wins every game', async () => {
    const env = await loadBuiltinEnvironment('guess-number', { max: 32, count: 15 });
    const { mean, outs } = await meanReward(env, await samplerFor(guessRule), env.dataset);
    expect(outs.every((o) => o.out.stopReason === 'terminated')).toBe(true);
    expect(mean).toBe(1);
  });

  it('a server that fails is recorded on the rollout, not thrown', async () => {
    const server = await startTestServer({ faults: { errorFirst: 1 } });
    servers.push(server);
    const sampler = new OpenAISampler({ model: 'test-model', baseUrl: server.baseUrl, retry: { maxRetries: 0 } });
    const env = await loadBuiltinEnvironment('arithmetic', { count: 1 });
    const out = await env.rollout(env.dataset[0]!, { sampler, sampling: {}, rng: new Rng(0) });
    expect(out.stopReason).toBe('error');
    expect(out.error?.code).toBe('sampler_error');
  });
});
