/* eslint-disable @typescript-eslint/no-explicit-any -- JSON response bodies are probed ad hoc in these tests */
import { afterEach, describe, expect, it } from 'vitest';
import { fakeDecode, fakeEncode, fakeLogprobs } from './fake-tokenizer.js';
import { arithmeticRule, solveArithmetic } from './test-server-rules.js';
import { startTestServer, type TestServer } from './test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function post(path: string, body: unknown, signal?: AbortSignal): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(`${server!.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

const chat = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'm', messages: [{ role: 'user', content }], ...extra });

describe('startTestServer', () => {
  it('lists its model and echoes by default', async () => {
    server = await startTestServer({ model: 'tiny' });
    const models = (await (await fetch(`${server.baseUrl}/models`)).json()) as { data: { id: string }[] };
    expect(models.data[0]!.id).toBe('tiny');
    const { status, json } = await post('/v1/chat/completions', chat('hello'));
    expect(status).toBe(200);
    expect(json.choices[0].message.content).toBe('hello');
    expect(json.model).toBe('tiny');
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/models', '/v1/chat/completions']);
  });

  it('answers from a script, then from a rule, one reply per choice', async () => {
    server = await startTestServer({ script: ['first'], rule: arithmeticRule });
    const { json } = await post('/v1/chat/completions', chat('What is 6 * 7?', { n: 2 }));
    expect(json.choices.map((c: any) => c.message.content)).toEqual(['first', '<think>computing</think>\n<answer>42</answer>']);
  });

  it('returns vLLM-style token ids and logprobs for chat', async () => {
    server = await startTestServer({ script: ['abc'], policyVersion: 4 });
    const { json } = await post('/v1/chat/completions', chat('q', { return_token_ids: true, logprobs: true }));
    const choice = json.choices[0];
    expect(fakeDecode(json.prompt_token_ids)).toBe('<|user|>q\n<|assistant|>');
    expect(choice.token_ids).toEqual(fakeEncode('abc'));
    expect(choice.logprobs.content.map((t: any) => t.logprob)).toEqual(fakeLogprobs(fakeEncode('abc')));
    expect(json.policy_version).toBe(4);
  });

  it('formats tokens as token_id:N when asked, and serves completions', async () => {
    server = await startTestServer({ script: ['xy'] });
    const { json } = await post('/v1/completions', { model: 'm', prompt: 'p', logprobs: 0, return_token_ids: true, return_tokens_as_token_ids: true });
    const choice = json.choices[0];
    expect(choice.text).toBe('xy');
    expect(choice.prompt_token_ids).toEqual(fakeEncode('p'));
    expect(choice.logprobs.tokens).toEqual(['token_id:120', 'token_id:121']);
    expect(choice.logprobs.token_logprobs).toEqual(fakeLogprobs([120, 121]));
  });

  it('applies stop strings and max_tokens', async () => {
    server = await startTestServer({ script: ['hello world', 'abcdefgh'] });
    const a = await post('/v1/chat/completions', chat('q', { stop: [' wor'] }));
    expect(a.json.choices[0].message.content).toBe('hello');
    const b = await post('/v1/chat/completions', chat('q', { max_tokens: 3 }));
    expect(b.json.choices[0].message.content).toBe('abc');
    expect(b.json.choices[0].finish_reason).toBe('length');
  });

  it('returns scripted tool calls', async () => {
    server = await startTestServer({ script: [{ tool_calls: [{ name: 'add', arguments: '{"a":1,"b":2}' }] }] });
    const { json } = await post('/v1/chat/completions', chat('q'));
    expect(json.choices[0].finish_reason).toBe('tool_calls');
    expect(json.choices[0].message.tool_calls[0].function).toEqual({ name: 'add', arguments: '{"a":1,"b":2}' });
  });

  it('injects 500s by count and hangs until the client gives up', async () => {
    server = await startTestServer({ faults: { errorFirst: 2, hangFirst: 1 } });
    expect((await post('/v1/chat/completions', chat('a'))).status).toBe(500);
    expect((await post('/v1/chat/completions', chat('a'))).status).toBe(500);
    await expect(post('/v1/chat/completions', chat('a'), AbortSignal.timeout(200))).rejects.toThrow();
    expect((await post('/v1/chat/completions', chat('ok'))).json.choices[0].message.content).toBe('ok');
    expect(server.requests.map((r) => r.fault ?? r.status)).toEqual(['error', 'error', 'hang', 200]);
  });

  it('injects faults by seeded rate, reproducibly', async () => {
    const statuses = async () => {
      server = await startTestServer({ faults: { errorRate: 0.5, seed: 7 } });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await post('/v1/chat/completions', chat('a'))).status);
      await server.close();
      server = undefined;
      return out;
    };
    const first = await statuses();
    expect(first).toContain(500);
    expect(first).toContain(200);
    expect(await statuses()).toEqual(first);
  });

  it('waits the configured latency', async () => {
    server = await startTestServer({ latencyMs: 120 });
    const t0 = performance.now();
    await post('/v1/chat/completions', chat('a'));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(110);
  });

  it('streams chat completions as server-sent events', async () => {
    server = await startTestServer({ script: ['hello', { tool_calls: [{ name: 'f', arguments: '{}' }] }] });
    const read = async (body: unknown) => {
      const res = await fetch(`${server!.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const lines = (await res.text()).split('\n\n').filter(Boolean);
      expect(lines.at(-1)).toBe('data: [DONE]');
      return lines.slice(0, -1).map((l) => JSON.parse(l.slice('data: '.length)) as any);
    };
    const chunks = await read(chat('q', { stream: true, stream_options: { include_usage: true } }));
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('hello');
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1).usage.completion_tokens).toBe(5);
    const toolChunks = await read(chat('q', { stream: true }));
    expect(toolChunks.find((c) => c.choices[0].delta.tool_calls)!.choices[0].delta.tool_calls[0].function.name).toBe('f');
    expect(toolChunks.at(-1).choices[0].finish_reason).toBe('tool_calls');
  });

  it('rejects malformed requests with 400 and unknown routes with 404', async () => {
    server = await startTestServer();
    expect((await post('/v1/chat/completions', { messages: 'nope' })).status).toBe(400);
    expect((await post('/v1/nothing', {})).status).toBe(404);
  });
});

describe('solveArithmetic', () => {
  it('respects * and / precedence and subtraction', () => {
    expect(solveArithmetic('What is 3 + 4 * 2?')).toBe(11);
    expect(solveArithmetic('Compute 10 - 4 - 3')).toBe(3);
    expect(solveArithmetic('8 / 2 + 1')).toBe(5);
    expect(solveArithmetic('no numbers')).toBeUndefined();
  });
});
