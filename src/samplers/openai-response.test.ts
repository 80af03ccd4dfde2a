import { describe, expect, it } from 'vitest';
import { toChatResponse, toCompletionResponse } from './openai-response.js';

describe('toChatResponse', () => {
  it('reads vLLM chat token fields: top-level prompt_token_ids, choice token_ids, logprobs.content', () => {
    const res = toChatResponse(
      {
        model: 'm',
        prompt_token_ids: [1, 2, 3],
        policy_version: 2,
        choices: [{ message: { content: 'hi' }, finish_reason: 'stop', token_ids: [7, 8], logprobs: { content: [{ token: 'h', logprob: -0.5 }, { token: 'i', logprob: -0.25 }] } }],
        usage: { prompt_tokens: 3, completion_tokens: 2 },
      },
      'fallback',
      true,
    );
    expect(res.choices[0]!.tokens).toEqual({ promptIds: [1, 2, 3], completionIds: [7, 8], completionLogprobs: [-0.5, -0.25] });
    expect(res.policyVersion).toBe(2);
    expect(res.usage).toEqual({ promptTokens: 3, completionTokens: 2 });
  });

  it('falls back to "token_id:N" logprob labels when token_ids are absent', () => {
    const res = toChatResponse(
      {
        prompt_token_ids: [1],
        choices: [{ message: { content: 'x' }, finish_reason: 'length', logprobs: { content: [{ token: 'token_id:42', logprob: -1 }] } }],
      },
      'm',
      true,
    );
    expect(res.choices[0]!.tokens!.completionIds).toEqual([42]);
    expect(res.choices[0]!.finishReason).toBe('length');
    expect(res.model).toBe('m');
  });

  it('fails loudly when tokens were requested but not returned, or do not line up', () => {
    const plain = { choices: [{ message: { content: 'x' }, finish_reason: 'stop' }] };
    expect(() => toChatResponse(plain, 'm', true)).toThrow(/no prompt_token_ids/);
    expect(toChatResponse(plain, 'm', false).choices[0]!.tokens).toBeUndefined();
    const mismatched = { prompt_token_ids: [1], choices: [{ message: { content: 'x' }, token_ids: [1, 2], logprobs: { content: [{ token: 'x', logprob: -1 }] } }] };
    expect(() => toChatResponse(mismatched, 'm', true)).toThrow(/2 completion ids but 1 logprobs/);
  });

  it('rejects a malformed body with a non-retryable SamplerError', () => {
    expect(() => toChatResponse({ choices: 'nope' }, 'm', false)).toThrow(/malformed chat completion/);
  });

  it('treats tool calls as finish reason tool_calls', () => {
    const res = toChatResponse(
      { choices: [{ message: { content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{' } }] }, finish_reason: 'tool_calls' }] },
      'm',
      false,
    );
    expect(res.choices[0]!.message).toEqual({ role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{' } }] });
    expect(res.choices[0]!.finishReason).toBe('tool_calls');
  });
});

describe('toCompletionResponse', () => {
  it('reads completion token fields: choice prompt_token_ids, token_ids, logprobs.token_logprobs', () => {
    const res = toCompletionResponse(
      { choices: [{ text: 'ab', finish_reason: 'stop', prompt_token_ids: [5], token_ids: [97, 98], logprobs: { tokens: ['a', 'b'], token_logprobs: [-0.1, -0.2] } }] },
      'm',
      true,
    );
    expect(res.choices[0]).toEqual({ text: 'ab', finishReason: 'stop', tokens: { promptIds: [5], completionIds: [97, 98], completionLogprobs: [-0.1, -0.2] } });
  });

  it('parses token_id labels for completions', () => {
    const res = toCompletionResponse(
      { choices: [{ text: 'ab', prompt_token_ids: [5], logprobs: { tokens: ['token_id:97', 'token_id:98'], token_logprobs: [-0.1, -0.2] } }] },
      'm',
      true,
    );
    expect(res.choices[0]!.tokens!.completionIds).toEqual([97, 98]);
  });
});
