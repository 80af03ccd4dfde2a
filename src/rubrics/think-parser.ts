import type { ChatMessage } from '../core/index.js';
import type { RewardSpec } from './reward-function.js';

export interface ThinkParserOptions {
  /** Post-processes the text after `</think>` into the answer (e.g. an `XMLParser`'s parseAnswer). */
  extract?: (text: string) => string | undefined;
}

/** What a `<think>…</think>answer` message contains. */
export interface ThinkParts {
  think: string | undefined;
  /** Text after the last `</think>`; `undefined` when the model never closed its thinking. */
  answer: string | undefined;
}

/**
 * Splits reasoning-model output into thinking and answer. The answer is whatever follows the last
 * `</think>`; a message that opens `<think>` and never closes it has no answer (it was cut off).
 * Text without think tags is all answer.
 */
export class ThinkParser {
  private readonly extractFn: ((text: string) => string | undefined) | undefined;

  constructor(options: ThinkParserOptions = {}) {
    this.extractFn = options.extract;
  }

  parse(text: string): ThinkParts {
    const closeRe = /<\s*\/\s*think\s*>/gi;
    let lastClose: RegExpExecArray | undefined;
    for (let m = closeRe.exec(text); m !== null; m = closeRe.exec(text)) lastClose = m;
    if (lastClose) {
      const before = text.slice(0, lastClose.index);
      const open = /<\s*think\s*>/i.exec(before);
      const think = (open ? before.slice(open.index + open[0].length) : before).trim();
      return { think, answer: text.slice(lastClose.index + lastClose[0].length).trim() };
    }
    if (/<\s*think\s*>/i.test(text)) {
      const open = /<\s*think\s*>/i.exec(text)!;
      return { think: text.slice(open.index + open[0].length).trim(), answer: undefined };
    }
    return { think: undefined, answer: text.trim() };
  }

  /** The (extracted) answer of the last assistant message, `undefined` when there is none. */
  parseAnswer(completion: readonly ChatMessage[] | string): string | undefined {
    let text: string | undefined;
    if (typeof completion === 'string') text = completion;
    else {
      for (let i = completion.length - 1; i >= 0 && text === undefined; i--) {
        const m = completion[i]!;
        if (m.role === 'assistant') text = m.content ?? '';
      }
    }
    if (text === undefined) return undefined;
    const { answer } = this.parse(text);
    if (answer === undefined) return undefined;
    return this.extractFn ? this.extractFn(answer) : answer;
  }

  /**
   * 1 when every assistant message is `<think>…</think>` followed by a non-empty answer, 0.5 when
   * the thinking is closed but the shape is off (no opening tag, several blocks, empty answer), 0
   * when thinking never closes; averaged over assistant messages.
   */
  formatReward(completion: readonly ChatMessage[] | string): number {
    const texts =
      typeof completion === 'string'
        ? [completion]
        : completion.filter((m) => m.role === 'assistant').map((m) => m.content ?? '');
    if (texts.length === 0) return 0;
    let total = 0;
    for (const text of texts) {
      const closes = text.match(/<\s*\/\s*think\s*>/gi)?.length ?? 0;
      const opens = text.match(/<\s*think\s*>/gi)?.length ?? 0;
      if (closes === 0) continue;
      const startsRight = /^\s*<\s*think\s*>/i.test(text);
      const { answer } = this.parse(text);
      total += startsRight && opens === 1 && closes === 1 && answer ? 1 : 0.5;
    }
    return total / texts.length;
  }

  /** `formatReward` as a rubric entry named `think_format` (weight 0.2 unless given). */
  formatRewardFunc(options: { name?: string; weight?: number } = {}): RewardSpec {
    return {
      name: options.name ?? 'think_format',
      weight: options.weight ?? 0.2,
      fn: ({ completion }) => this.formatReward(completion),
    };
  }
}
