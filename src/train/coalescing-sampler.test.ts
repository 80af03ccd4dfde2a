import { describe, expect, it } from 'vitest';
import { SamplerError } from '../core/errors.js';
import type { ChatMessage } from '../core/messages.js';
import type { ChatRequest } from '../core/sampler.js';
import { ScriptedSampler } from '../testing/index.js';
import { CoalescingSampler } from './coalescing-sampler.js';

const q = (text: string): ChatMessage[] => [{ role: 'user', content: text }];

describe('CoalescingSampler', () => {
  it('merges same-tick identical requests into one n-choice request and fans the choices out in order', async () => {
    const counts: Record<string, number> = {};
    const inner = new ScriptedSampler({
      fakeTokens: true,
      respond: (req) => {
        const key = req.messages[0]!.content!;
        counts[key] = (counts[key] ?? 0) + 1;
        return `${key}${counts[key]! - 1}`;
      },
    });
    const sampler = new CoalescingSampler({ sampler: inner });
    const replies = await Promise.all([
      sampler.chat({ messages: q('a'), sampling: { seed: 1, temperature: 1 } }),
      sampler.chat({ messages: q('a'), sampling: { seed: 2, temperature: 1 } }),
      sampler.chat({ messages: q('b'), sampling: { seed: 3, temperature: 1 } }),
      sampler.chat({ messages: q('a'), sampling: { seed: 4, temperature: 1 } }),
    ]);
    expect(inner.chatRequests.map((r) => [r.messages[0]!.content, r.n, r.sampling?.seed])).toEqual([
      ['a', 3, 1],
      ['b', 1, 3],
    ]);
    expect(replies.map((r) => r.choices[0]!.message.content)).toEqual(['a0', 'a1', 'b0', 'a2']);
    expect(replies.every((r) => r.choices.length === 1)).toBe(true);
    expect(replies[0]!.usage.completionTokens).toBe(replies[0]!.choices[0]!.tokens!.completionIds.length);
  });

  it('sends a tick of different requests in one chatMany call when the sampler has it; a failed item rejects only its callers', async () => {
    const inner = new ScriptedSampler({
      fakeTokens: true,
      respond: (req) => (req.messages[0]!.content === 'bad' ? new SamplerError('no') : `${req.messages[0]!.content}`),
    });
    const calls: ChatRequest[][] = [];
    const batching = Object.assign(Object.create(inner) as ScriptedSampler, {
      chatMany: async (requests: readonly ChatRequest[]) => {
        calls.push([...requests]);
        return Promise.all(requests.map((r) => inner.chat(r).catch((e: SamplerError) => e)));
      },
    });
    const sampler = new CoalescingSampler({ sampler: batching });
    const results = await Promise.allSettled([
      sampler.chat({ messages: q('a'), sampling: { seed: 1 } }),
      sampler.chat({ messages: q('bad') }),
      sampler.chat({ messages: q('a'), sampling: { seed: 2 } }),
      sampler.chat({ messages: q('c') }),
    ]);
    expect(calls.map((c) => c.map((r) => [r.messages[0]!.content, r.n]))).toEqual([
      [
        ['a', 2],
        ['bad', 1],
        ['c', 1],
      ],
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.choices[0]!.message.content : 'x'))).toEqual(['a', 'x', 'a', 'c']);
  });

  it('passes errors to every merged caller', async () => {
    const inner = new ScriptedSampler({ respond: () => new SamplerError('down') });
    const sampler = new CoalescingSampler({ sampler: inner });
    const results = await Promise.allSettled([sampler.chat({ messages: q('a') }), sampler.chat({ messages: q('a') })]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});

describe('CoalescingSampler and group ids', () => {
  const counting = () => new ScriptedSampler({ fakeTokens: true, respond: (req) => `${req.groupId ?? '-'}:${req.sampling?.seed}` });

  it('keeps two groups with the same prompt apart, and merges one group whatever its seeds', async () => {
    const inner = counting();
    const sampler = new CoalescingSampler({ sampler: inner });
    const replies = await Promise.all([
      sampler.chat({ messages: q('a'), groupId: '1:0', sampling: { seed: 10 } }),
      sampler.chat({ messages: q('a'), groupId: '1:1', sampling: { seed: 20 } }),
      sampler.chat({ messages: q('a'), groupId: '1:0', sampling: { seed: 11 } }),
      sampler.chat({ messages: q('a'), groupId: '1:1', sampling: { seed: 21 } }),
    ]);
    expect(inner.chatRequests.map((r) => [r.groupId, r.n, r.sampling?.seed])).toEqual([
      ['1:0', 2, 10],
      ['1:1', 2, 20],
    ]);
    // The merged request carries its first caller's seed; the second caller's seed (11, 21) is not sent.
    expect(replies.map((r) => r.choices[0]!.message.content)).toEqual(['1:0:10', '1:1:20', '1:0:10', '1:1:20']);
  });

  it('does not merge members of one group whose messages differ (multi-turn after the first turn)', async () => {
    const inner = counting();
    const sampler = new CoalescingSampler({ sampler: inner });
    await Promise.all([sampler.chat({ messages: q('a'), groupId: 'g' }), sampler.chat({ messages: q('b'), groupId: 'g' })]);
    expect(inner.chatRequests.map((r) => [r.messages[0]!.content, r.n])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
  });

  it('without group ids, equal prompts merge (the fallback)', async () => {
    const inner = counting();
    const sampler = new CoalescingSampler({ sampler: inner });
    await Promise.all([sampler.chat({ messages: q('a'), sampling: { seed: 1 } }), sampler.chat({ messages: q('a'), sampling: { seed: 2 } })]);
    expect(inner.chatRequests.map((r) => [r.n, r.sampling?.seed])).toEqual([[2, 1]]);
  });
});
