import { describe, expect, it } from 'vitest';
import { SamplerError } from '../core/errors.js';
import { fakeDecode, fakeEncode, fakeLogprobs } from './fake-tokenizer.js';
import { ScriptedSampler, ScriptExhaustedError } from './scripted-sampler.js';

const user = (content: string) => ({ messages: [{ role: 'user' as const, content }] });

describe('ScriptedSampler', () => {
  it('answers from its script in order and records calls', async () => {
    const s = new ScriptedSampler({ script: ['one', { content: 'two' }] });
    expect((await s.chat(user('a'))).choices[0]!.message.content).toBe('one');
    expect((await s.chat(user('b'))).choices[0]!.message.content).toBe('two');
    expect(s.chatRequests.map((r) => r.messages[0]!.content)).toEqual(['a', 'b']);
    expect(s.remaining).toBe(0);
  });

  it('throws loudly when the script runs out, and assertDone reports the overrun', async () => {
    const s = new ScriptedSampler({ script: ['only'] });
    await s.chat(user('a'));
    await expect(s.chat(user('unexpected question'))).rejects.toThrow(/script exhausted.*unexpected question/);
    expect(() => s.assertDone()).toThrow(ScriptExhaustedError);
  });

  it('reports unused replies with assertDone({ allUsed })', async () => {
    const s = new ScriptedSampler({ script: ['a', 'b'] });
    await s.chat(user('x'));
    expect(() => s.assertDone({ allUsed: true })).toThrow(/1 scripted replies were never used/);
  });

  it('computes replies with a function of the request, one per choice', async () => {
    const s = new ScriptedSampler({ respond: (req, i) => `${req.messages[0]!.content}#${i}` });
    const res = await s.chat({ ...user('q'), n: 3 });
    expect(res.choices.map((c) => c.message.content)).toEqual(['q#0', 'q#1', 'q#2']);
  });

  it('throws scripted errors and marks tool calls', async () => {
    const call = { id: 'c1', type: 'function' as const, function: { name: 'add', arguments: '{"a":1}' } };
    const s = new ScriptedSampler({ script: [new SamplerError('boom', { status: 500 }), { content: null, tool_calls: [call] }] });
    await expect(s.chat(user('a'))).rejects.toThrow('boom');
    const res = await s.chat(user('b'));
    expect(res.choices[0]!.finishReason).toBe('tool_calls');
    expect(res.choices[0]!.message.tool_calls).toEqual([call]);
  });

  it('attaches fake token ids and logprobs when asked', async () => {
    const s = new ScriptedSampler({ script: ['42', '7'], policyVersion: 3 });
    const plain = await s.chat(user('a'));
    expect(plain.choices[0]!.tokens).toBeUndefined();
    const res = await s.chat({ ...user('a'), sampling: { returnTokens: true } });
    const tokens = res.choices[0]!.tokens!;
    expect(fakeDecode(tokens.completionIds)).toBe('7');
    expect(tokens.completionLogprobs).toEqual(fakeLogprobs(fakeEncode('7')));
    expect(fakeDecode(tokens.promptIds)).toContain('<|user|>a');
    expect(res.policyVersion).toBe(3);
  });

  it('supports completions', async () => {
    const s = new ScriptedSampler({ script: ['done'], fakeTokens: true });
    const res = await s.complete({ prompt: 'hello' });
    expect(res.choices[0]!.text).toBe('done');
    expect(res.choices[0]!.tokens!.promptIds).toEqual(fakeEncode('hello'));
  });

  it('honours abort signals during simulated latency', async () => {
    const s = new ScriptedSampler({ script: ['late'], latencyMs: 10_000 });
    const controller = new AbortController();
    const pending = s.chat(user('a'), { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(SamplerError);
  });
});
