import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeEncode, fakeLogprobs, fakeRenderChat } from '../testing/fake-tokenizer.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { startAgentProxy, ROLLOUT_ID_HEADER, type AgentProxy } from './agent-proxy.js';
import { callsToTurns } from './calls-to-turns.js';

const tools: OpenAI.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'add', description: 'add two numbers', parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } } } },
];

function client(baseURL: string): OpenAI {
  return new OpenAI({ baseURL, apiKey: 'x', maxRetries: 0 });
}

/** Drops the fields that legitimately differ between two answers of the test server (id, created). */
function stable(body: unknown): unknown {
  const { id: _id, created: _created, ...rest } = body as Record<string, unknown>;
  return rest;
}

describe('agent proxy', () => {
  let server: TestServer;
  let proxy: AgentProxy;

  beforeAll(async () => {
    server = await startTestServer({
      // Replies keyed by the user's text so concurrent callers get deterministic answers.
      rule: (request) => {
        const last = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
        if (last.startsWith('tool:')) return { content: 'calling', tool_calls: [{ name: 'add', arguments: '{"a":1,"b":2}', id: 'call_1' }] };
        return `echo ${last}`;
      },
      latencyMs: (request) => {
        const last = request.messages.at(-1)?.content ?? '';
        return (fakeEncode(last).reduce((a, b) => a + b, 0) % 7) * 2;
      },
      policyVersion: 5,
    });
    proxy = await startAgentProxy({});
  });

  afterAll(async () => {
    await proxy.close();
    await server.close();
  });

  it('rejects a request without a rollout id with a clear 400', async () => {
    const res = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('missing_rollout_id');
    expect(body.error.message).toContain('/rollouts/<id>/v1');
    expect(body.error.message).toContain(ROLLOUT_ID_HEADER);
    // Through the OpenAI SDK the agent sees the same message.
    await expect(client(`${proxy.url}/v1`).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow(/no rollout id/);
  });

  it('refuses ids that are not open, and bad bodies, without recording anything', async () => {
    const res = await fetch(`${proxy.url}/rollouts/nope/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("rollout 'nope' is not open");
    const session = proxy.open({ upstream: { baseUrl: server.baseUrl } });
    const bad = await fetch(`${session.baseURL}/chat/completions`, { method: 'POST', body: '{"messages": []}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('messages');
    const notJson = await fetch(`${session.baseURL}/chat/completions`, { method: 'POST', body: 'hello' });
    expect(notJson.status).toBe(400);
    expect(session.calls).toHaveLength(0);
    await session.close();
    const after = await fetch(`${session.baseURL}/chat/completions`, { method: 'POST', body: '{"messages":[{"role":"user","content":"x"}]}' });
    expect(after.status).toBe(404);
  });

  it('records the exact ids and logprobs the upstream returned, and forwards the body unchanged', async () => {
    const session = proxy.open({ upstream: { baseUrl: server.baseUrl, model: 'test-model' } });
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hello there' },
    ];
    const viaProxy = await client(session.baseURL).chat.completions.create({ model: 'whatever', messages });
    expect(viaProxy.choices[0]!.message.content).toBe('echo hello there');
    expect(session.calls).toHaveLength(1);
    const call = session.calls[0]!;
    expect(call.request.return_token_ids).toBe(true);
    expect(call.request.logprobs).toBe(true);
    expect(call.request.model).toBe('test-model');
    // The same body sent straight to the upstream gets the same answer (the server is deterministic).
    const direct = await fetch(`${server.baseUrl}/chat/completions`, { method: 'POST', body: JSON.stringify(call.request) });
    const directBody = await direct.json();
    expect(stable(call.response)).toEqual(stable(directBody));
    const { turns, stats } = callsToTurns({ calls: session.calls });
    expect(turns[0]!.tokens).toEqual({
      promptIds: fakeEncode(fakeRenderChat([{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there' }])),
      completionIds: fakeEncode('echo hello there'),
      completionLogprobs: fakeLogprobs(fakeEncode('echo hello there')),
    });
    expect(turns[0]!.policyVersion).toBe(5);
    expect(stats).toMatchObject({ calls: 1, turns: 1, extensions: 0, splits: 0, sequences: 1 });
    await session.close();
  });

  it('records streamed calls exactly as non-streamed ones (chat with tool calls, and completions)', async () => {
    const plain = proxy.open({ upstream: { baseUrl: server.baseUrl } });
    const streamed = proxy.open({ upstream: { baseUrl: server.baseUrl } });
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'tool: add 1 and 2' }];

    const full = await client(plain.baseURL).chat.completions.create({ model: 'm', messages, tools });
    const stream = await client(streamed.baseURL).chat.completions.create({ model: 'm', messages, tools, stream: true, stream_options: { include_usage: true } });
    let content = '';
    const calls: { id?: string; name?: string; arguments: string }[] = [];
    let finish: string | null = null;
    let usage: unknown;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      content += choice.delta.content ?? '';
      for (const t of choice.delta.tool_calls ?? []) {
        const slot = (calls[t.index] ??= { arguments: '' });
        if (t.id) slot.id = t.id;
        if (t.function?.name) slot.name = t.function.name;
        slot.arguments += t.function?.arguments ?? '';
      }
      finish = choice.finish_reason ?? finish;
    }
    // The agent sees the same message either way.
    expect(content).toBe(full.choices[0]!.message.content);
    expect(calls).toEqual([{ id: 'call_1', name: 'add', arguments: '{"a":1,"b":2}' }]);
    expect(finish).toBe('tool_calls');
    expect(usage).toEqual(full.usage);

    const a = plain.calls[0]!;
    const b = streamed.calls[0]!;
    expect(a.streamed).toBe(false);
    expect(b.streamed).toBe(true);
    expect(b.request).toEqual(a.request);
    expect(stable(b.response)).toEqual(stable(a.response));
    expect(callsToTurns({ calls: streamed.calls }).turns).toEqual(callsToTurns({ calls: plain.calls }).turns);

    // Text completions.
    const c1 = await client(plain.baseURL).completions.create({ model: 'm', prompt: 'abc' });
    const s2 = await client(streamed.baseURL).completions.create({ model: 'm', prompt: 'abc', stream: true });
    let text = '';
    for await (const chunk of s2) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(c1.choices[0]!.text);
    expect(streamed.calls[1]!.request).toEqual(plain.calls[1]!.request);
    expect(stable(streamed.calls[1]!.response)).toEqual(stable(plain.calls[1]!.response));
    const turn = callsToTurns({ calls: streamed.calls }).turns[1]!;
    expect(turn.tokens?.promptIds).toEqual(fakeEncode('abc'));
    await plain.close();
    await streamed.close();
  });

  it('keeps concurrent rollouts apart (path and header ids)', async () => {
    const n = 40;
    const sessions = Array.from({ length: n }, (_, i) => proxy.open({ id: `conc-${i}`, upstream: { baseUrl: server.baseUrl } }));
    await Promise.all(
      sessions.map(async (session, i) => {
        const byHeader = i % 2 === 1;
        const openai = byHeader
          ? new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'x', maxRetries: 0, defaultHeaders: { [ROLLOUT_ID_HEADER]: session.id } })
          : client(session.baseURL);
        const history: OpenAI.ChatCompletionMessageParam[] = [];
        for (let turn = 0; turn < 3; turn++) {
          history.push({ role: 'user', content: `rollout ${i} turn ${turn}` });
          const res = await openai.chat.completions.create({ model: 'm', messages: history });
          history.push({ role: 'assistant', content: res.choices[0]!.message.content ?? '' });
        }
      }),
    );
    for (const [i, session] of sessions.entries()) {
      expect(session.calls.map((c) => c.index)).toEqual([0, 1, 2]);
      const { turns, stats } = callsToTurns({ calls: session.calls });
      expect(turns.map((t) => t.completion.content)).toEqual([0, 1, 2].map((t) => `echo rollout ${i} turn ${t}`));
      for (const t of turns) expect(JSON.stringify(t.prompt)).not.toMatch(new RegExp(`rollout (?!${i} )\\d+ `));
      // The fake template renders history the same way every time, so each call extends the previous one.
      expect(stats).toMatchObject({ turns: 3, extensions: 2, splits: 0, sequences: 1 });
    }
    await Promise.all(sessions.map((s) => s.close()));
  });

  it('aborts and records calls still in flight when the rollout closes', async () => {
    const slow = await startTestServer({ latencyMs: 5_000 });
    const session = proxy.open({ upstream: { baseUrl: slow.baseUrl } });
    const pending = client(session.baseURL).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    const settled = pending.then(
      () => 'answered',
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(session.pending).toBe(1);
    const t = performance.now();
    await session.close();
    expect(performance.now() - t).toBeLessThan(1_000);
    expect(session.calls).toHaveLength(1);
    expect(session.calls[0]!.error?.message).toContain('ended before the call completed');
    expect(await settled).not.toBe('answered');
    await slow.close();
  });

  it('cuts off and records the upstream call when the agent hangs up', async () => {
    const slow = await startTestServer({ latencyMs: 5_000 });
    const session = proxy.open({ upstream: { baseUrl: slow.baseUrl } });
    const controller = new AbortController();
    const pending = fetch(`${session.baseURL}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }),
      signal: controller.signal,
    }).catch((e: Error) => e.name);
    await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    expect(await pending).toBe('AbortError');
    await session.settled();
    expect(session.calls).toHaveLength(1);
    expect(session.calls[0]!.error?.message).toContain('the agent closed the connection');
    await session.close();
    await slow.close();
  });

  it('applies the rollout sampling over the agent’s, with a distinct seed per call', async () => {
    const session = proxy.open({ upstream: { baseUrl: server.baseUrl }, sampling: { temperature: 1, maxTokens: 4, seed: 100 } });
    const openai = client(session.baseURL);
    await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'abcdefgh' }], temperature: 0, max_completion_tokens: 50 });
    await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'abcdefgh' }] });
    const [first, second] = session.calls;
    expect(first!.request).toMatchObject({ temperature: 1, max_tokens: 4, seed: 100 });
    expect(first!.request.max_completion_tokens).toBeUndefined();
    expect(second!.request.seed).toBe(101);
    const { turns } = callsToTurns({ calls: session.calls });
    expect(turns[0]!.finishReason).toBe('length');
    expect(turns[0]!.tokens?.completionIds).toHaveLength(4);
    await session.close();
  });
});
