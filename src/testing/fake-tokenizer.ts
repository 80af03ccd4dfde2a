import type { ChatMessage } from '../core/messages.js';

/**
 * A deterministic stand-in tokenizer for tests: one token per Unicode code point, id = code point.
 * It is reversible (`decode(encode(s)) === s`), so tests can check that ids match text exactly.
 */
export function fakeEncode(text: string): number[] {
  const ids: number[] = [];
  for (const ch of text) ids.push(ch.codePointAt(0)!);
  return ids;
}

/** Inverse of `fakeEncode`. */
export function fakeDecode(ids: readonly number[]): string {
  let out = '';
  for (const id of ids) out += String.fromCodePoint(id);
  return out;
}

/** A deterministic "logprob" for a sampled token: a value in [-1, -0.1] derived from id and position. */
export function fakeLogprob(id: number, position: number): number {
  return -(((id * 31 + position * 17) % 10) + 1) / 10;
}

/** Logprobs for a sequence of completion ids. */
export function fakeLogprobs(ids: readonly number[]): number[] {
  return ids.map((id, i) => fakeLogprob(id, i));
}

/**
 * Renders chat messages the way the fake "chat template" does: `<|role|>content\n` per message plus
 * the assistant header, so prompt ids differ whenever the messages do.
 */
export function fakeRenderChat(messages: readonly ChatMessage[]): string {
  let text = '';
  for (const m of messages) {
    text += `<|${m.role}|>${m.content ?? ''}`;
    if (m.role === 'assistant' && m.tool_calls) {
      for (const call of m.tool_calls) text += `<tool_call>${call.function.name}(${call.function.arguments})</tool_call>`;
    }
    text += '\n';
  }
  return `${text}<|assistant|>`;
}
