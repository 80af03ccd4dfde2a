import type { ChatMessage, ToolSchema } from '../core/messages.js';
import type { ChatTokenizer } from '../engine/chat-tokenizer.js';
import { startsWith } from './packing.js';

/** An SFT sequence: ids of the whole conversation, mask 1 on assistant tokens (through end-of-turn). */
export interface SftSequence {
  inputIds: number[]; // [T]
  lossMask: (0 | 1)[]; // [T]
  /** True when the template re-rendered an earlier turn differently; the sequence stops there. */
  prefixBreak: boolean;
}

/**
 * Tokenizes a conversation for SFT with the sampler's own template: for every assistant message k,
 * the ids of `messages[:k]` (with generation prompt) are the context and the new ids that
 * `messages[:k+1]` adds, up to and including the first end-of-turn token, are the trained target —
 * exactly the tokens the model would have to sample. Later context (tool results, user turns,
 * template glue) is masked 0. If a rendering does not extend the previous one, the sequence is cut
 * there and `prefixBreak` is set.
 */
export async function buildSftSequence(options: { messages: readonly ChatMessage[]; tools?: readonly ToolSchema[]; tokenizer: ChatTokenizer }): Promise<SftSequence | undefined> {
  const { messages, tokenizer } = options;
  const tools = options.tools ?? [];
  const eos = new Set(await tokenizer.eosIds());
  const inputIds: number[] = [];
  const lossMask: (0 | 1)[] = [];
  let prefixBreak = false;
  for (let k = 0; k < messages.length; k++) {
    if (messages[k]!.role !== 'assistant') continue;
    const context = await tokenizer.encodeChat({ messages: messages.slice(0, k), tools });
    const withTurn = await tokenizer.encodeChat({ messages: messages.slice(0, k + 1), tools });
    if (!startsWith(context, inputIds) || !startsWith(withTurn, context)) {
      prefixBreak = true;
      break;
    }
    for (const id of context.slice(inputIds.length)) {
      inputIds.push(id);
      lossMask.push(0);
    }
    const added = withTurn.slice(context.length);
    let end = added.findIndex((id) => eos.has(id));
    if (end < 0) end = added.length - 1;
    for (const id of added.slice(0, end + 1)) {
      inputIds.push(id);
      lossMask.push(1);
    }
  }
  if (!lossMask.includes(1)) return undefined;
  return { inputIds, lossMask, prefixBreak };
}
