import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastAssistantText, type Example, type ScoreInput } from '../core/index.js';
import { Rng } from '../core/rng.js';
import { runRollouts } from '../rollout/run-rollouts.js';
import { rubric } from '../rubrics/rubric.js';
import { OpenAISampler } from '../samplers/openai-sampler.js';
import { ScriptedSampler } from '../testing/scripted-sampler.js';
import { fakeEncode, fakeLogprobs } from '../testing/fake-tokenizer.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { agentEnv, type AgentContext, type AgentState } from './agent-env.js';
import { agentMetrics } from './agent-metrics.js';

/** A plain-fetch agent: asks once, then asks again with its own answer appended. */
async function twoStepAgent(task: Example, ctx: AgentContext): Promise<string> {
  const messages: unknown[] = [{ role: 'user', content: task.prompt.at(-1)?.content ?? '' }];
  let answer = '';
  for (let step = 0; step < 2; step++) {
    const res = await fetch(`${ctx.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.apiKey}` },
      body: JSON.stringify({ model: ctx.model, messages }),
      signal: ctx.signal,
    });
    if (!res.ok) throw new Error(`model call failed: ${res.status}`);
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    answer = body.choices[0]!.message.content;
    messages.push({ role: 'assistant', content: answer }, { role: 'user', content: 'again' });
  }
  return answer.toUpperCase();
}

const dataset = [
  { id: 'a', question: 'alpha' },
  { id: 'b', question: 'beta' },
  { id: 'c', question: 'gamma' },
];

const saysAgainFuncs = [function saidAgain({ completion }: ScoreInput) { return lastAssistantText(completion) === 'ECHO AGAIN'; }];
const saysAgain = rubric({ funcs: saysAgainFuncs });

describe('AgentEnv', () => {
  let server: TestServer;
  let sampler: OpenAISampler;

  beforeAll(async () => {
    server = await startTestServer({ rule: (request) => `echo ${request.messages.at(-1)?.content ?? ''}` });
    sampler = new OpenAISampler({ model: 'test-model', baseUrl: server.baseUrl, retry: { maxRetries: 0 } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('turns an agent’s calls into turns with exact tokens, and scores its output', async () => {
    const env = agentEnv({ name: 'two-step', dataset, agent: twoStepAgent, rubric: saysAgain });
    const results = await runRollouts({ env, sampler, groupSize: 2, concurrency: 6 });
    expect(results).toHaveLength(6);
    for (const r of results) {
      expect(r.stopReason).toBe('terminated');
      expect(r.reward).toBe(1);
      expect(r.turns).toHaveLength(2);
      const question = dataset.find((d) => d.id === r.exampleId)!.question;
      expect(r.turns[0]!.completion.content).toBe(`echo ${question}`);
      expect(r.turns[0]!.tokens?.completionIds).toEqual(fakeEncode(`echo ${question}`));
      expect(r.turns[0]!.tokens?.completionLogprobs).toEqual(fakeLogprobs(fakeEncode(`echo ${question}`)));
      expect(r.turns[1]!.prompt.map((m) => m.content)).toEqual([question, `echo ${question}`, 'again']);
      // The conversation after the agent's first prompt, then its output.
      expect(r.completion.map((m) => m.content)).toEqual([`echo ${question}`, 'again', 'echo again', 'ECHO AGAIN']);
      expect(r.usage.completionTokens).toBe(fakeEncode(`echo ${question}`).length + fakeEncode('echo again').length);
    }
    await env.close();
  });

  it('reports merge stats as metric-only rubric entries', async () => {
    const env = agentEnv({ name: 'metrics', dataset, agent: twoStepAgent, rubric: rubric({ funcs: [...saysAgainFuncs, ...agentMetrics()] }) });
    const [r] = await runRollouts({ env, sampler, examples: env.dataset.slice(0, 1) });
    expect(r!.metrics).toMatchObject({ saidAgain: 1, agent_calls: 2, agent_extensions: 1, agent_splits: 0, agent_failed_calls: 0 });
    expect(r!.reward).toBe(1);
    await env.close();
  });

  it('exposes output, calls and merge stats to reward functions', async () => {
    let seen: AgentState | undefined;
    const env = agentEnv({
      name: 'state',
      dataset,
      agent: twoStepAgent,
      rubric: rubric({ funcs: [function look({ state }) { seen = state as AgentState; return 1; }] }),
    });
    await runRollouts({ env, sampler, examples: env.dataset.slice(0, 1) });
    expect(seen?.output).toBe('ECHO AGAIN');
    expect(seen?.calls).toHaveLength(2);
    expect(seen?.agent).toMatchObject({ calls: 2, turns: 2, extensions: 1, splits: 0, sequences: 1, failedCalls: 0 });
    await env.close();
  });

  it('records an agent that throws and one that hangs, and the run goes on', async () => {
    const env = agentEnv({
      name: 'flaky',
      dataset,
      timeoutMs: 300,
      agent: async (task, ctx) => {
        const question = task.prompt.at(-1)?.content;
        if (question === 'beta') {
          await twoStepAgent(task, ctx);
          throw new TypeError('agent bug after two calls');
        }
        if (question === 'gamma') return new Promise<string>(() => {}); // never settles, ignores the signal
        return twoStepAgent(task, ctx);
      },
      rubric: saysAgain,
    });
    const t = performance.now();
    const results = await runRollouts({ env, sampler, concurrency: 3 });
    expect(performance.now() - t).toBeLessThan(3_000);
    const [a, b, c] = results;
    expect(a!.stopReason).toBe('terminated');
    expect(a!.reward).toBe(1);
    expect(b!.stopReason).toBe('error');
    expect(b!.error).toMatchObject({ code: 'agent_error' });
    expect(b!.error?.message).toContain('TypeError: agent bug after two calls');
    expect(b!.turns).toHaveLength(2); // calls made before the throw are kept
    expect(b!.reward).toBe(0);
    expect(c!.stopReason).toBe('error');
    expect(c!.error).toMatchObject({ code: 'agent_timeout' });
    expect(c!.error?.message).toContain('300 ms');
    await env.close();
  });

  it('records a call that hangs upstream as failed when the agent times out', async () => {
    const hanging = await startTestServer({ faults: { hangFirst: 1 } });
    const env = agentEnv({ name: 'hang', dataset: dataset.slice(0, 1), timeoutMs: 200, agent: twoStepAgent, rubric: saysAgain, upstream: hanging.baseUrl });
    const r = await env.rollout(env.dataset[0]!, { sampler, sampling: {}, rng: new Rng(0) });
    const state = r.state as AgentState;
    expect(r.stopReason).toBe('error');
    expect(r.error?.code).toBe('agent_timeout');
    expect(state.agent).toMatchObject({ calls: 1, failedCalls: 1, turns: 0 });
    expect(state.problems[0]!.message).toMatch(/ended before the call completed|closed the connection/);
    await env.close();
    await hanging.close();
  });

  it('passes the run’s sampling to the upstream and stops when the model hits its token limit', async () => {
    const env = agentEnv({ name: 'limits', dataset: dataset.slice(0, 1), agent: twoStepAgent, rubric: saysAgain });
    const r = await env.rollout(env.dataset[0]!, { sampler, sampling: { maxTokens: 3, seed: 7, temperature: 0.5, returnTokens: true }, rng: new Rng(0) });
    const calls = (r.state as AgentState).calls as { request: Record<string, unknown> }[];
    expect(calls.map((c) => c.request.seed)).toEqual([7, 8]);
    expect(calls[0]!.request).toMatchObject({ max_tokens: 3, temperature: 0.5, model: 'test-model' });
    expect(r.turns.every((t) => t.tokens?.completionIds.length === 3)).toBe(true);
    expect(r.stopReason).toBe('truncated');
    await env.close();
  });

  it('ends a rollout truncated when the agent exceeds the turn budget', async () => {
    const env = agentEnv({ name: 'budget', dataset: dataset.slice(0, 1), agent: twoStepAgent, rubric: saysAgain });
    const r = await env.rollout(env.dataset[0]!, { sampler, sampling: {}, rng: new Rng(0), budget: { maxTurns: 1 } });
    expect(r.stopReason).toBe('truncated');
    expect(r.error).toBeUndefined();
    expect(r.turns).toHaveLength(1);
    const state = r.state as AgentState;
    expect(state.budgetExceeded).toBe(true);
    expect(state.agentError?.message).toContain('model call failed: 400');
    await env.close();
  });

  it('says clearly when the sampler has no HTTP endpoint to forward to', async () => {
    const env = agentEnv({ name: 'scripted', dataset: dataset.slice(0, 1), agent: twoStepAgent, rubric: saysAgain });
    const r = await env.rollout(env.dataset[0]!, { sampler: new ScriptedSampler({ script: ['x'] }), sampling: {}, rng: new Rng(0) });
    expect(r.stopReason).toBe('error');
    expect(r.error?.code).toBe('config_error');
    expect(r.error?.message).toContain("agentEnv({ upstream: 'http://…/v1' })");
    await env.close();
  });

  it('fails at construction with a message that names the fix', () => {
    expect(() => agentEnv({ name: 'x', dataset, rubric: saysAgain } as never)).toThrow(/needs `agent`/);
    expect(() => agentEnv({ name: 'x', dataset, agent: twoStepAgent } as never)).toThrow(/needs a rubric/);
    expect(() => agentEnv({ name: 'x', dataset, agent: twoStepAgent, rubric: saysAgain, upstream: 'not a url' })).toThrow(/invalid upstream URL/);
  });
});
