import { z } from 'zod';

/**
 * Tokenizer settings, persisted in the index manifest so queries are analysed exactly like the
 * documents were.
 */
export const TokenizerConfig = z.object({
  /** Lowercase every token. */
  lowercase: z.boolean().default(true),
  /** Unicode folding: NFKD, then drop combining marks ("Café" → "cafe", "ﬁ" → "fi"). */
  fold: z.boolean().default(true),
  /** Drop English stopwords (the list in `ENGLISH_STOPWORDS`). */
  stopwords: z.boolean().default(true),
  /** Light English stemming (plural "s"-stemmer, see `sStem`). */
  stem: z.boolean().default(false),
  /** Tokens shorter than this (in UTF-16 units) are dropped. */
  minLength: z.number().int().min(1).default(1),
  /** Tokens longer than this are truncated (keeps binary junk from bloating the vocabulary). */
  maxLength: z.number().int().min(1).max(255).default(64),
});
export type TokenizerConfig = z.infer<typeof TokenizerConfig>;

/**
 * A short English stopword list (articles, auxiliaries, pronouns, prepositions, conjunctions).
 * Written for keiko; close in spirit to the lists Lucene and bm25s use.
 */
export const ENGLISH_STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be been but by for from had has have he her his i if in into is it its ' +
    'me my no not of on or our she so such than that the their them then there these they this ' +
    'those to too us was we were what when where which who whom why will with would you your'
  ).split(' '),
);

/** Length of the longest word in `ENGLISH_STOPWORDS`: longer words skip the set lookup. */
const MAX_STOPWORD_LENGTH = Math.max(...[...ENGLISH_STOPWORDS].map((w) => w.length));

const WORD = /[\p{L}\p{N}]+/gu;
/** Any character outside ASCII. */
export const NON_ASCII = /[^\x00-\x7f]/;
const MARKS = /\p{M}+/gu;

/** Whether every character of `text` is ASCII (a char-code scan: cheaper than a regex on a query). */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** An ASCII letter or digit: what a token is made of in ASCII text. */
export function isAsciiWordChar(ch: number): boolean {
  return (ch >= 97 && ch <= 122) || (ch >= 48 && ch <= 57) || (ch >= 65 && ch <= 90);
}

/**
 * The "S" stemmer (Harman, 1991): removes English plural endings only. Predictable and cheap, so
 * it rarely conflates unrelated words: "ies"→"y" (not "eies"/"aies"), "es"→"e" (not "aes"/"ees"/
 * "oes"), "s"→"" (not "us"/"ss").
 */
export function sStem(word: string): string {
  const n = word.length;
  if (n < 4 || word.charCodeAt(n - 1) !== 115 /* s */) return word;
  if (word.endsWith('ies') && !word.endsWith('eies') && !word.endsWith('aies')) return word.slice(0, -3) + 'y';
  if (word.endsWith('es') && !word.endsWith('aes') && !word.endsWith('ees') && !word.endsWith('oes')) return word.slice(0, -1);
  if (word.endsWith('us') || word.endsWith('ss')) return word;
  return word.slice(0, -1);
}

/**
 * Splits text into index terms: runs of Unicode letters and digits, optionally lowercased, folded,
 * stopword-filtered and stemmed. Everything else (punctuation, symbols, spaces) separates tokens.
 */
export class Tokenizer {
  readonly config: TokenizerConfig;

  constructor(config: Partial<TokenizerConfig> = {}) {
    this.config = TokenizerConfig.parse(config);
  }

  /** The normalised form of a single word, or '' when it would be dropped. */
  normalize(word: string): string {
    const c = this.config;
    let w = c.lowercase ? word.toLowerCase() : word;
    if (c.fold && NON_ASCII.test(w)) w = w.normalize('NFKD').replace(MARKS, '');
    if (w.length < c.minLength) return '';
    if (c.stopwords && ENGLISH_STOPWORDS.has(w)) return '';
    if (c.stem) w = sStem(w);
    if (w.length > c.maxLength) w = w.slice(0, c.maxLength);
    return w;
  }

  /** All terms of `text`, in order (duplicates kept). */
  tokenize(text: string): string[] {
    const out: string[] = [];
    if (isAscii(text)) {
      this.tokenizeAscii(text, out);
      return out;
    }
    // Lowercase and fold the whole text: folding can split words ("ﬁ" → "fi") or merge them, which
    // the word regex then sees correctly.
    const c = this.config;
    let t = c.lowercase ? text.toLowerCase() : text;
    if (c.fold) t = t.normalize('NFKD').replace(MARKS, '');
    for (const m of t.matchAll(WORD)) this.emit(m[0], out);
    return out;
  }

  /**
   * The tokens of an ASCII text, found in one pass over its char codes: no regex and no lowercased
   * copy of the whole text (only words with a capital are lowercased). The same tokens as the word
   * regex (ASCII text needs no folding).
   */
  private tokenizeAscii(text: string, out: string[]): void {
    const n = text.length;
    const lowercase = this.config.lowercase;
    let i = 0;
    while (i < n) {
      while (i < n && !isAsciiWordChar(text.charCodeAt(i))) i++;
      if (i >= n) break;
      const start = i;
      let upper = false;
      for (let ch = text.charCodeAt(i); i < n && isAsciiWordChar(ch); ch = text.charCodeAt(++i)) if (ch <= 90 && ch >= 65) upper = true;
      const word = text.slice(start, i);
      this.emit(lowercase && upper ? word.toLowerCase() : word, out);
    }
  }

  private emit(word: string, out: string[]): void {
    const c = this.config;
    let w = word;
    if (w.length < c.minLength) return;
    if (c.stopwords && w.length <= MAX_STOPWORD_LENGTH && ENGLISH_STOPWORDS.has(w)) return;
    if (c.stem) w = sStem(w);
    if (w.length > c.maxLength) w = w.slice(0, c.maxLength);
    out.push(w);
  }
}
