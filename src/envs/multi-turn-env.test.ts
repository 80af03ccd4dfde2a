import { describe, expect, it } from 'vitest';
import { ConfigError, Rng, SamplerError, type RolloutContext } from '../core/index.js';
import { ScriptedSampler } from '../testing/index.js';
import { rubric } from '../rubrics/index.js';
import { multiTurnEnv } from './multi-turn-env.js';
import { singleTurnEnv } from './single-turn-env.js';

const alwaysOne = rubric({ funcs: [{ name: 'one', fn: () => 1 }] });
const rows = [{ question: 'count to three', answer: '3' }];
const ctx = (sampler: ScriptedSampler, extra: Partial<RolloutContext> = {}): RolloutContext => ({
  sampler, sampling: { temperature: 1 }, rng: new Rng(0), ...extra,
});

/** A counting game: the env answers "next" until the model says "3". */
function countingEnv(opts: { maxTurns?: number; async?: boolean } = {}) {
  return multiTurnEnv<{ said: string[]; done?: boolean }>({
    name: 'count',
    dataset: rows,
    rubric: alwaysOne,
    maxTurns: opts.maxTurns ?? 5,
    setupState: ({ state }) => {
      state.said = [];
    },
    isCompleted: ({ state }) => state.said.at(-1) === '3',
    envResponse: async ({ messages, state }) => {
      if (opts.async) await new Promise((r) => setTimeout(r, 1));
      const last = messages.at(-1)!.content ?? '';
      state.said.push(last);
      return last === '3' ? 'done' : 'next';
    },
  });
}

describe('multiTurnEnv', () => {
  it('loops model → env until completion and records each turn with tokens and usage', async () => {
    const env = countingEnv({ async: true });
    const sampler = new ScriptedSampler({ script: ['1', '2', '3'], fakeTokens: true, policyVersion: 4 });
    const out = await env.rollout(env.dataset[0]!, ctx(sampler));
    expect(out.stopReason).toBe('terminated');
    expect(out.error).toBeUndefined();
    expect(out.turns).toHaveLength(3);
    expect(out.completion.map((m) => `${m.role}:${m.content}`)).toEqual([
      'assistant:1', 'user:next', 'assistant:2', 'user:next', 'assistant:3', 'user:done',
    ]);
    // Turn i saw the prompt plus everything before it; tokens come from the sampler untouched.
    expect(out.turns[1]!.prompt).toEqual([...env.dataset[0]!.prompt, ...out.completion.slice(0, 2)]);
    expect(out.turns[2]!.tokens!.completionIds.length).toBeGreaterThan(0);
    expect(out.turns[0]!.policyVersion).toBe(4);
    expect(out.usage.promptTokens).toBeGreaterThan(0);
    expect(out.usage.completionTokens).toBe(out.turns.reduce((n, t) => n + t.tokens!.completionIds.length, 0));
    expect(out.state).toEqual({ said: ['1', '2', '3'] });
    expect(sampler.chatRequests[0]!.sampling).toEqual({ temperature: 1 });
    sampler.assertDone({ allUsed: true });
  });

  it('isCompleted is also checked right after the model turn (no env reply needed)', async () => {
    const env = multiTurnEnv({
      name: 'stop-on-model', dataset: rows, rubric: alwaysOne,
      isCompleted: ({ messages }) => messages.at(-1)!.content === 'bye',
      envResponse: () => 'again',
    });
    const out = await env.rollout(env.dataset[0]!, ctx(new ScriptedSampler({ script: ['hi', 'bye'] })));
    expect(out.stopReason).toBe('terminated');
    expect(out.completion.at(-1)).toEqual({ role: 'assistant', content: 'bye' });
  });

  it('default isCompleted is state.done', async () => {
    const env = multiTurnEnv({
      name: 'done-flag', dataset: rows, rubric: alwaysOne,
      envResponse: ({ state }) => {
        state['done'] = true;
        return [{ role: 'user', content: 'over' }];
      },
    });
    const out = await env.rollout(env.dataset[0]!, ctx(new ScriptedSampler({ script: ['x'] })));
    expect(out.stopReason).toBe('terminated');
    expect(out.completion).toHaveLength(2);
  });

  it('maxTurns (env or budget, the lower wins) ends the rollout truncated', async () => {
    const env = countingEnv({ maxTurns: 2 });
    const out = await env.rollout(env.dataset[0]!, ctx(new ScriptedSampler({ script: ['1', '2'] })));
    expect(out.stopReason).toBe('truncated');
    expect(out.turns).toHaveLength(2);
    expect(out.completion.at(-1)!.role).toBe('assistant');
    const env5 = countingEnv({ maxTurns: 5 });
    const budgeted = await env5.rollout(env5.dataset[0]!, ctx(new ScriptedSampler({ script: ['1'] }), { budget: { maxTurns: 1 } }));
    expect(budgeted.stopReason).toBe('truncated');
    expect(budgeted.turns).toHaveLength(1);
  });

  it('maxTotalTokens ends the rollout truncated once the sum passes it', async () => {
    const env = countingEnv();
    const sampler = new ScriptedSampler({ script: ['1', '2', '3'] });
    const out = await env.rollout(env.dataset[0]!, ctx(sampler, { budget: { maxTotalTokens: 1 } }));
    expect(out.stopReason).toBe('truncated');
    expect(out.turns).toHaveLength(1);
  });

  it("finishReason 'length' ends the rollout truncated", async () => {
    const env = countingEnv();
    const out = await env.rollout(env.dataset[0]!, ctx(new ScriptedSampler({ script: [{ content: '1 2', finishReason: 'length' }] })));
    expect(out.stopReason).toBe('truncated');
    expect(out.turns[0]!.finishReason).toBe('length');
  });

  it('a sampler error is recorded on the rollout, never thrown, and earlier turns are kept', async () => {
    const env = countingEnv();
    const sampler = new ScriptedSampler({ script: ['1', new SamplerError('HTTP 500', { status: 500 })] });
    const out = await env.rollout(env.dataset[0]!, ctx(sampler));
    expect(out.stopReason).toBe('error');
    expect(out.error).toEqual({ name: 'SamplerError', code: 'sampler_error', message: 'HTTP 500' });
    expect(out.turns).toHaveLength(1);
    const plain = await env.rollout(env.dataset[0]!, ctx(new ScriptedSampler({ script: [new Error('socket hang up')] })));
    expect(plain.error).toMatchObject({ code: 'sampler_error', message: 'socket hang up' });
  });

  it('a hook that throws is recorded as an environment error', async () => {
    const env = multiTurnEnv({
      name: 'broken', dataset: rows, rubric: alwaysOne,
      envResponse: () => {
        throw new Error('board exploded');
      },
    });
    const out = await env.rollout(env.dataset[0]!, ctx(new ScriptedSampler({ script: ['x'] })));
    expect(out.stopReason).toBe('error');
    expect(out.error).toMatchObject({ code: 'env_error', message: expect.stringContaining('board exploded') });
    const badSetup = multiTurnEnv({
      name: 'broken-setup', dataset: rows, rubric: alwaysOne, envResponse: () => 'x',
      setupState: async () => Promise.reject(new Error('no board')),
    });
    const out2 = await badSetup.rollout(badSetup.dataset[0]!, ctx(new ScriptedSampler({ script: [] })));
    expect(out2).toMatchObject({ stopReason: 'error', turns: [], error: { code: 'env_error' } });
  });

  it('an env reply that is not a chat message is an environment error', async () => {
    const env = multiTurnEnv({ name: 'bad-reply', dataset: rows, rubric: alwaysOne, envResponse: () => ({ role: 'robot', content: 1 }) as never });
    const out = await env.rollout(env.dataset[0]!, ctx(new ScriptedSampler({ script: ['x'] })));
    expect(out.stopReason).toBe('error');
    expect(out.error!.message).toMatch(/envResponse must return a string or chat messages/);
  });

  it('an aborted signal ends the rollout with an error before calling the sampler', async () => {
    const env = countingEnv();
    const controller = new AbortController();
    controller.abort();
    const sampler = new ScriptedSampler({ script: ['1'] });
    const out = await env.rollout(env.dataset[0]!, ctx(sampler, { signal: controller.signal }));
    expect(out.stopReason).toBe('error');
    expect(sampler.calls).toHaveLength(0);
  });

  it('fails at construction with messages that name the fix', () => {
    expect(() => multiTurnEnv({ name: 'x', dataset: rows, rubric: alwaysOne })).toThrow(/no envResponse; pass envResponse \(or use singleTurnEnv\)/);
    expect(() => multiTurnEnv({ name: 'x', dataset: rows, rubric: alwaysOne, envResponse: () => '', maxTurns: 0 })).toThrow(/maxTurns/);
    expect(() => singleTurnEnv({ name: 'x', dataset: [], rubric: alwaysOne })).toThrow(/no examples/);
    expect(() => singleTurnEnv({ name: 'x', dataset: rows, rubric: undefined as never })).toThrow(/needs a rubric/);
    expect(() => singleTurnEnv({ name: 'x', dataset: rows, columns: { question: 'q' }, rubric: alwaysOne })).toThrow(
      /has no column 'q' \(columns.question\); columns: question, answer. Set columns.question to one of them/,
    );
    expect(() => singleTurnEnv({ name: 'x', dataset: rows, rubric: alwaysOne })).not.toThrow(ConfigError);
  });
});

describe('singleTurnEnv', () => {
  it('asks once with the system prompt and few-shot turns and ends terminated', async () => {
    const env = singleTurnEnv({
      name: 'qa', dataset: rows, rubric: alwaysOne, systemPrompt: 'Be brief.',
      fewShot: [{ question: 'count to one', answer: '1' }],
    });
    const sampler = new ScriptedSampler({ script: ['1 2 3'] });
    const out = await env.rollout(env.dataset[0]!, ctx(sampler));
    expect(out.stopReason).toBe('terminated');
    expect(out.completion).toEqual([{ role: 'assistant', content: '1 2 3' }]);
    expect(sampler.chatRequests[0]!.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(sampler.chatRequests[0]!.tools).toBeUndefined();
  });
});
