// EngineChatTokenizer's batching against a small stand-in for the engine's /v1/chat/tokenize (the
// endpoint itself is tested against the real engine in engine/tests/test_server.py and, end to end,
// by test/sft-cli.test.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineChatTokenizer } from './chat-tokenizer.js';

interface Call {
  requests: { messages: { content: string }[] }[];
}

let server: Server | undefined;
afterEach(() => server?.close());

/** Answers each request with ids [length of its first message, call number]; fails calls listed in `failing`. */
async function standIn(failing: Set<number> = new Set()): Promise<{ url: string; calls: Call[] }> {
  const calls: Call[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const call = JSON.parse(body) as Call;
      calls.push(call);
      if (req.url !== '/v1/chat/tokenize' || failing.has(calls.length)) {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"boom"}}');
        return;
      }
      const data = call.requests.map((r) => ({ prompt_token_ids: [r.messages[0]!.content.length, calls.length] }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data }));
    });
  });
  await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/v1`, calls };
}

const conversation = (n: number) => ({ messages: [{ role: 'user' as const, content: 'x'.repeat(n) }] });

describe('EngineChatTokenizer', () => {
  it('sends the requests of one tick together, in calls of at most 1024, each answer to its request', async () => {
    const { url, calls } = await standIn();
    const tokenizer = new EngineChatTokenizer({ baseUrl: url });
    const ids = await Promise.all(Array.from({ length: 2500 }, (_, i) => tokenizer.encodeChat(conversation(i + 1))));
    expect(calls.map((c) => c.requests.length).sort((a, b) => a - b)).toEqual([452, 1024, 1024]); // sent concurrently
    expect(ids.map((x) => x[0])).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
    // Cached: asking again sends nothing.
    expect(await tokenizer.encodeChat(conversation(7))).toEqual(ids[6]);
    expect(calls).toHaveLength(3);
  });

  it('rejects every request of a failed call with the engine error, and does not cache the failure', async () => {
    const { url, calls } = await standIn(new Set([1]));
    const tokenizer = new EngineChatTokenizer({ baseUrl: url });
    const results = await Promise.allSettled([tokenizer.encodeChat(conversation(1)), tokenizer.encodeChat(conversation(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/\/v1\/chat\/tokenize failed \(500\)/);
    expect(await tokenizer.encodeChat(conversation(2))).toEqual([2, 2]);
    expect(calls).toHaveLength(2);
  });
});
