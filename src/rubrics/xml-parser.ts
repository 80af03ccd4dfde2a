import { ConfigError, type ChatMessage } from '../core/index.js';
import type { RewardSpec } from './reward-function.js';

/** A field name, or a list of accepted alternatives whose first entry is the canonical name. */
export type XMLField = string | readonly [string, ...string[]];

export interface XMLParserOptions {
  /** Declared fields, in the order the model should write them: `['think', ['answer', 'final']]`. */
  fields: readonly XMLField[];
  /** The field `parseAnswer` returns. Default: the last declared field. */
  answerField?: string;
}

const TAG_NAME = /^[A-Za-z_][\w.-]*$/;

/**
 * Reads `<field>…</field>` values out of model text. Tolerant by design: the last occurrence of a
 * field wins, tags may carry spaces or odd case, and an unclosed tag runs to the next declared tag
 * (or the end of the text), so broken XML still yields what the model meant where that is clear.
 */
export class XMLParser {
  readonly fields: readonly (readonly string[])[];
  readonly answerField: string;
  private readonly allTags: string;

  constructor(options: XMLParserOptions) {
    if (!options || !Array.isArray(options.fields) || options.fields.length === 0) {
      throw new ConfigError("XMLParser needs at least one field, e.g. new XMLParser({ fields: ['answer'] })");
    }
    const seen = new Set<string>();
    this.fields = options.fields.map((f) => {
      const alts = typeof f === 'string' ? [f] : [...f];
      if (alts.length === 0) throw new ConfigError('XMLParser field alternatives must not be empty');
      for (const a of alts) {
        if (!TAG_NAME.test(a)) {
          throw new ConfigError(`XMLParser field '${a}' is not a valid tag name; use letters, digits, '_', '-' or '.'`);
        }
        if (seen.has(a.toLowerCase())) throw new ConfigError(`XMLParser field '${a}' is declared twice`);
        seen.add(a.toLowerCase());
      }
      return alts;
    });
    const canonical = this.fields.map((f) => f[0]!);
    this.answerField = options.answerField ?? canonical[canonical.length - 1]!;
    if (!canonical.includes(this.answerField)) {
      throw new ConfigError(
        `XMLParser answerField '${this.answerField}' is not a declared field; declared: ${canonical.join(', ')}`,
      );
    }
    this.allTags = [...seen].map(escapeRegex).join('|');
  }

  /** Values of all declared fields (by canonical name), `undefined` where a field is absent. */
  parse(text: string): Record<string, string | undefined> {
    const out: Record<string, string | undefined> = {};
    for (const alts of this.fields) out[alts[0]!] = this.extract(text, alts);
    return out;
  }

  /** The answer field of the last assistant message (or of `text`), `undefined` when absent. */
  parseAnswer(completion: readonly ChatMessage[] | string): string | undefined {
    const text = typeof completion === 'string' ? completion : lastAssistant(completion);
    if (text === undefined) return undefined;
    const alts = this.fields.find((f) => f[0] === this.answerField)!;
    return this.extract(text, alts);
  }

  /** Renders values as the model should write them, in declared order. */
  format(values: Record<string, string | number>): string {
    return this.fields
      .filter((alts) => values[alts[0]!] !== undefined)
      .map((alts) => `<${alts[0]}>${String(values[alts[0]!])}</${alts[0]}>`)
      .join('\n');
  }

  /** A one-line description of the expected format, for system prompts. */
  formatInstructions(): string {
    return `Respond in this format: ${this.fields.map((f) => `<${f[0]}>...</${f[0]}>`).join(' ')}`;
  }

  /**
   * Partial-credit format score in [0, 1]: per assistant message and declared field, 1 for a
   * well-formed `<f>…</f>`, 0.5 for an unmatched opening or closing tag, 0 when absent; averaged.
   */
  formatReward(completion: readonly ChatMessage[] | string): number {
    const texts =
      typeof completion === 'string'
        ? [completion]
        : completion.filter((m) => m.role === 'assistant').map((m) => m.content ?? '');
    if (texts.length === 0) return 0;
    let total = 0;
    for (const text of texts) {
      let score = 0;
      for (const alts of this.fields) score += fieldFormScore(text, alts);
      total += score / this.fields.length;
    }
    return total / texts.length;
  }

  /** `formatReward` as a rubric entry named `format` (weight 0.2 unless given). */
  formatRewardFunc(options: { name?: string; weight?: number } = {}): RewardSpec {
    return {
      name: options.name ?? 'format',
      weight: options.weight ?? 0.2,
      fn: ({ completion }) => this.formatReward(completion),
    };
  }

  private extract(text: string, alts: readonly string[]): string | undefined {
    const altPattern = alts.map(escapeRegex).join('|');
    const openRe = new RegExp(`<\\s*(${altPattern})\\s*>`, 'gi');
    let last: RegExpExecArray | undefined;
    for (let m = openRe.exec(text); m !== null; m = openRe.exec(text)) last = m;
    if (!last) return undefined;
    const start = last.index + last[0].length;
    const rest = text.slice(start);
    const close = new RegExp(`<\\s*/\\s*${escapeRegex(last[1]!)}\\s*>`, 'i').exec(rest);
    if (close) return rest.slice(0, close.index).trim();
    // Unclosed: run to the next declared tag, or the end.
    const next = new RegExp(`<\\s*/?\\s*(?:${this.allTags})\\s*>`, 'i').exec(rest);
    return (next ? rest.slice(0, next.index) : rest).trim();
  }
}

function fieldFormScore(text: string, alts: readonly string[]): number {
  const altPattern = alts.map(escapeRegex).join('|');
  if (new RegExp(`<\\s*(${altPattern})\\s*>[\\s\\S]*?<\\s*/\\s*\\1\\s*>`, 'i').test(text)) return 1;
  const open = new RegExp(`<\\s*(?:${altPattern})\\s*>`, 'i').test(text);
  const close = new RegExp(`<\\s*/\\s*(?:${altPattern})\\s*>`, 'i').test(text);
  return open || close ? 0.5 : 0;
}

function lastAssistant(messages: readonly ChatMessage[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'assistant') return m.content ?? '';
  }
  return undefined;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}
