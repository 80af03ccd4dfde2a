import { afterEach, describe, expect, it } from 'vitest';
import { SamplerError } from '../core/errors.js';
import { fakeEncode, fakeLogprobs, fakeRenderChat } from '../testing/fake-tokenizer.js';
import { arithmeticRule } from '../testing/test-server-rules.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { OpenAISampler } from './openai-sampler.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function serve(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer(options);
  servers.push(s);
  return s;
}
const fastRetry = { baseDelayMs: 1, maxDelayMs: 5 };
const user = (content: string) => [{ role: 'user' as const, content }];

describe('OpenAISampler', () => {
  it('sends chat requests with sampling args and reads the reply', async () => {
    const server = await serve({ rule: arithmeticRule });
    const sampler = new OpenAISampler({ model: 'm', baseUrl: server.baseUrl });
    const res = await sampler.chat({
      messages: user('What is 2 + 3?'),
      sampling: { temperature: 0.7, topP: 0.9, maxTokens: 100, stop: ['</answer>'], seed: 5 },
      n: 2,
    });
    expect(res.choices).toHaveLength(2);
    expect(res.choices[0]!.message.content).toBe('<think>computing</think>\n<answer>5');
    expect(res.choices[0]!.finishReason).toBe('stop');
    expect(res.usage.promptTokens).toBe(fakeEncode(fakeRenderChat(user('What is 2 + 3?'))).length);
    const body = server.requests[0]!.body as Record<string, unknown>;
    expect(body).toMatchObject({ model: 'm', temperature: 0.7, top_p: 0.9, max_tokens: 100, stop: ['</answer>'], seed: 5, n: 2 });
    expect(body.return_token_ids).toBeUndefined();
  });

  it('returns exact token ids and logprobs for chat when returnTokens is set', async () => {
    const server = await serve({ script: ['hi there'], policyVersion: 9 });
    const sampler = new OpenAISampler({ model: 'm', baseUrl: server.baseUrl });
    const res = await sampler.chat({ messages: user('q'), sampling: { returnTokens: true } });
    expect(res.choices[0]!.tokens).toEqual({
      promptIds: fakeEncode(fakeRenderChat(user('q'))),
      completionIds: fakeEncode('hi there'),
      completionLogprobs: fakeLogprobs(fakeEncode('hi there')),
    });
    expect(res.policyVersion).toBe(9);
    expect(server.requests[0]!.body).toMatchObject({ return_token_ids: true, logprobs: true });
  });

  it('passes tools and parses tool calls', async () => {
    const server = await serve({ script: [{ tool_calls: [{ name: 'add', arguments: '{"a":1}', id: 'c9' }] }] });
    const sampler = new OpenAISampler({ model: 'm', baseUrl: server.baseUrl });
    const tools = [{ type: 'function' as const, function: { name: 'add', parameters: { type: 'object' } } }];
    const res = await sampler.chat({ messages: user('q'), tools });
    expect(res.choices[0]!.finishReason).toBe('tool_calls');
    expect(res.choices[0]!.message.tool_calls).toEqual([{ id: 'c9', type: 'function', function: { name: 'add', arguments: '{"a":1}' } }]);
    expect((server.requests[0]!.body as Record<string, unknown>).tools).toEqual(tools);
  });

  it('retries 500s with backoff and then succeeds', async () => {
    const server = await serve({ faults: { errorFirst: 2 } });
    const seen: number[] = [];
    const sampler = new OpenAISampler({ model: 'm', baseUrl: server.baseUrl, retry: fastRetry, onRetry: (r) => seen.push(r.attempt) });
    const res = await sampler.chat({ messages: user('ok') });
    expect(res.choices[0]!.message.content).toBe('ok');
    expect(seen).toEqual([0, 1]);
    expect(sampler.retries).toBe(2);
  });

  it('gives up after maxRetries with a retryable SamplerError carrying the status', async () => {
    const server = await serve({ faults: { errorFirst: 10 } });
    const sampler = new OpenAISampler({ model: 'm', baseUrl: server.baseUrl, retry: { ...fastRetry, maxRetries: 2 } });
    const error = await sampler.chat({ messages: user('x') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SamplerError);
    expect((error as SamplerError).status).toBe(500);
    expect((error as SamplerError).message).toMatch(/after 3 attempts/);
    expect(server.generationCount).toBe(3);
  });

  it('times out hung requests and retries them', async () => {
    const server = await serve({ faults: { hangFirst: 1 } });
    const sampler = new OpenAISampler({ model: 'm', baseUrl: server.baseUrl, timeoutMs: 150, retry: fastRetry });
    const res = await sampler.chat({ messages: user('after hang') });
    expect(res.choices[0]!.message.content).toBe('after hang');
    expect(server.generationCount).toBe(2);
  });

  it('does not retry 4xx errors', async () => {
    const server = await serve({ script: [{ fault: 'error', status: 400, message: 'bad' }] });
    const sampler = new OpenAISampler({ model: 'm', baseUrl: server.baseUrl, retry: fastRetry });
    const error = (await sampler.chat({ messages: user('x') }).catch((e: unknown) => e)) as SamplerError;
    expect(error.retryable).toBe(false);
    expect(error.status).toBe(400);
    expect(server.generationCount).toBe(1);
  });

  it('stops at once when the caller aborts', async () => {
    const server = await serve({ latencyMs: 5_000 });
    const sampler = new OpenAISampler({ model: 'm', baseUrl: server.baseUrl });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = (await sampler.chat({ messages: user('x') }, { signal: controller.signal }).catch((e: unknown) => e)) as SamplerError;
    expect(error).toBeInstanceOf(SamplerError);
    expect(error.retryable).toBe(false);
  });

  it('spreads requests over several base URLs', async () => {
    const a = await serve({ latencyMs: 20 });
    const b = await serve({ latencyMs: 20 });
    const sampler = new OpenAISampler({ model: 'm', baseUrl: `${a.baseUrl},${b.baseUrl}` });
    await Promise.all(Array.from({ length: 20 }, (_, i) => sampler.chat({ messages: user(String(i)) })));
    expect(a.generationCount).toBe(10);
    expect(b.generationCount).toBe(10);
  });

  it('sends fewer requests to a slow server under least-outstanding balancing', async () => {
    const slow = await serve({ latencyMs: 200 });
    const fast = await serve({ latencyMs: 5 });
    const sampler = new OpenAISampler({ model: 'm', baseUrl: [slow.baseUrl, fast.baseUrl] });
    // 4 workers issuing requests back to back: the slow server holds its request longer, so the fast one gets more.
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; i < 6; i++) await sampler.chat({ messages: user(`${w}-${i}`) });
      }),
    );
    expect(fast.generationCount).toBeGreaterThan(slow.generationCount * 2);
  });

  it('keeps many requests in flight at once (sockets are not capped)', async () => {
    const server = await serve({ latencyMs: 300 });
    const sampler = new OpenAISampler({ model: 'm', baseUrl: server.baseUrl });
    await Promise.all(Array.from({ length: 128 }, (_, i) => sampler.chat({ messages: user(String(i)) })));
    expect(server.maxInFlight).toBe(128);
  });

  it('rejects bad construction with a ConfigError', () => {
    expect(() => new OpenAISampler({ model: 'm', baseUrl: [] })).toThrow(/at least one base URL/);
    expect(() => new OpenAISampler({ model: 'm', baseUrl: 'not a url' })).toThrow(/invalid base URL 'not a url'/);
  });
});
