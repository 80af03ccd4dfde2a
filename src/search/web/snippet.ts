import type { Tokenizer } from '../index/tokenizer.js';

/**
 * The window of `text` (about `maxChars` long, cut at word boundaries) holding the most distinct
 * query terms, with those words wrapped in `**`. Prefix/suffix "…" show where text was cut.
 */
export function makeSnippet(options: { text: string; query: string; tokenizer: Tokenizer; maxChars?: number }): string {
  const { text, tokenizer } = options;
  const maxChars = options.maxChars ?? 200;
  const terms = new Set(tokenizer.tokenize(options.query));
  const words = NON_ASCII.test(text) ? splitWords(text, tokenizer, terms) : splitAsciiWords(text, tokenizer, terms);
  if (words.length === 0) return '';
  // Slide a window over words; score = distinct terms, then total hits; earliest wins ties. The
  // window's term counts are kept up to date as it slides (each word enters and leaves once).
  const inWindow = new Map<string, number>();
  let distinct = 0;
  let hits = 0;
  const enter = (k: number) => {
    const h = words[k]!.hit;
    if (!h) return;
    hits++;
    const c = inWindow.get(h) ?? 0;
    if (c === 0) distinct++;
    inWindow.set(h, c + 1);
  };
  const leave = (k: number) => {
    const h = words[k]!.hit;
    if (!h) return;
    hits--;
    const c = inWindow.get(h)!;
    if (c === 1) distinct--;
    inWindow.set(h, c - 1);
  };
  const lastEnd = words.at(-1)!.end;
  let best = { i: 0, j: 0, distinct: -1, hits: -1 };
  let j = -1;
  for (let i = 0; i < words.length; i++) {
    if (i > 0 && i - 1 <= j) leave(i - 1);
    if (j < i) enter((j = i));
    while (j + 1 < words.length && words[j + 1]!.end - words[i]!.start <= maxChars) enter(++j);
    if (distinct > best.distinct || (distinct === best.distinct && hits > best.hits)) best = { i, j, distinct, hits };
    if (words[j]!.end === lastEnd && i > 0 && best.distinct >= 0 && distinct <= best.distinct) break;
  }
  let out = '';
  for (let k = best.i; k <= best.j; k++) {
    const w = words[k]!;
    const s = text.slice(w.start, w.end);
    // Bold only the word itself, not the punctuation around it.
    const bolded = w.hit ? s.replace(/^([^\p{L}\p{N}]*)(.*?)([^\p{L}\p{N}]*)$/u, '$1**$2**$3') : s;
    out += (k > best.i ? ' ' : '') + bolded;
  }
  if (out.length > maxChars * 1.5) out = out.slice(0, maxChars);
  return (best.i > 0 ? '…' : '') + out + (best.j < words.length - 1 ? '…' : '');
}

/** A whitespace-separated word of the text and the first query term it holds (or null). */
interface Word {
  start: number;
  end: number;
  hit: string | null;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** Splits on whitespace and tokenizes each word: the general path. */
function splitWords(text: string, tokenizer: Tokenizer, terms: ReadonlySet<string>): Word[] {
  const words: Word[] = [];
  for (const m of text.matchAll(/\S+/g)) {
    const hit = tokenizer.tokenize(m[0]).find((t) => terms.has(t)) ?? null;
    words.push({ start: m.index, end: m.index + m[0].length, hit });
  }
  return words;
}

/**
 * The same as `splitWords` for ASCII text, in one scan: a word's tokens are its runs of ASCII
 * letters and digits, each normalised like the tokenizer does (no per-word arrays or regexes).
 */
function splitAsciiWords(text: string, tokenizer: Tokenizer, terms: ReadonlySet<string>): Word[] {
  const words: Word[] = [];
  const n = text.length;
  let i = 0;
  for (;;) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) return words;
    const start = i;
    let hit: string | null = null;
    while (i < n && !isSpace(text.charCodeAt(i))) {
      if (hit !== null || !isAlnum(text.charCodeAt(i))) {
        i++;
        continue;
      }
      const from = i;
      while (i < n && isAlnum(text.charCodeAt(i))) i++;
      const term = tokenizer.normalize(text.slice(from, i));
      if (term && terms.has(term)) hit = term;
    }
    words.push({ start, end: i, hit });
  }
}

/** ASCII whitespace, as `\s` matches it in ASCII text. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}
