import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../core/messages.js';
import type { ChatTokenizer } from '../engine/chat-tokenizer.js';
import { readSftJsonl } from './sft.js';
import { buildSftSequence } from './sft-sequence.js';

const EOS = 2;

/**
 * A ChatML-like template over single-character "tokens": role marker, one id per character, EOS,
 * newline (9); the generation prompt is the assistant marker. `breakAfter` re-renders assistant
 * turns differently once the conversation is longer than that (a template that breaks the prefix).
 */
function fakeTokenizer(breakAfter = Infinity): ChatTokenizer {
  const role = { system: 10, user: 11, assistant: 12, tool: 13 } as const;
  return {
    eosIds: () => Promise.resolve([EOS]),
    encodeChat: ({ messages }) => {
      const ids: number[] = [];
      for (const m of messages) {
        ids.push(role[m.role]);
        const text = m.content ?? '';
        const altered = m.role === 'assistant' && messages.length > breakAfter;
        for (const ch of text) ids.push(altered ? 99 : 100 + (ch.codePointAt(0)! % 100));
        ids.push(EOS, 9);
      }
      ids.push(role.assistant);
      return Promise.resolve(ids);
    },
  };
}

/** Two user/assistant exchanges. */
const messages: ChatMessage[] = [
  { role: 'user', content: 'q' },
  { role: 'assistant', content: 'ab' },
  { role: 'user', content: 'r' },
  { role: 'assistant', content: 'c' },
];

const c = (s: string) => [...s].map((ch) => 100 + (ch.codePointAt(0)! % 100));

describe('buildSftSequence', () => {
  it('trains assistant tokens through end-of-turn and masks everything else, over several turns', async () => {
    const seq = (await buildSftSequence({ messages, tokenizer: fakeTokenizer() }))!;
    // user q EOS \n | asst a b EOS | \n user r EOS \n asst | c EOS
    expect(seq.inputIds).toEqual([11, ...c('q'), EOS, 9, 12, ...c('ab'), EOS, 9, 11, ...c('r'), EOS, 9, 12, ...c('c'), EOS]);
    expect(seq.lossMask).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(seq.prefixBreak).toBe(false);
  });

  it('stops at a prefix break instead of re-tokenizing', async () => {
    const seq = (await buildSftSequence({ messages, tokenizer: fakeTokenizer(2) }))!;
    expect(seq.prefixBreak).toBe(true);
    expect(seq.lossMask.filter((m) => m === 1)).toHaveLength(3); // only the first assistant turn
  });

  it('returns undefined when there is nothing to learn', async () => {
    expect(await buildSftSequence({ messages: [{ role: 'user', content: 'q' }], tokenizer: fakeTokenizer() })).toBeUndefined();
  });
});

describe('readSftJsonl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keiko-sft-'));
  it('reads conversations and skips blank lines', () => {
    const file = join(dir, 'ok.jsonl');
    writeFileSync(file, '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]}\n\n');
    expect(readSftJsonl(file)).toHaveLength(1);
  });
  it('names the bad line', () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]}\n{"messages": 3}\n');
    expect(() => readSftJsonl(file)).toThrow(/bad\.jsonl:2: not a conversation/);
    writeFileSync(file, '{"messages":[{"role":"user","content":"hi"}]}\n');
    expect(() => readSftJsonl(file)).toThrow(/no assistant message/);
    expect(() => readSftJsonl(join(dir, 'missing.jsonl'))).toThrow(/cannot read SFT data/);
  });
});
