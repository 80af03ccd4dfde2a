import { isAsciiWordChar, NON_ASCII, type Tokenizer } from '../index/tokenizer.js';

/**
 * The window of `text` (about `maxChars` long, cut at word boundaries) holding the most distinct
 * query terms, with those words wrapped in `**`. Prefix/suffix "…" show where text was cut.
 */
export function makeSnippet(options: { text: string; query: string; tokenizer: Tokenizer; maxChars?: number }): string {
  const { text, tokenizer } = options;
  const maxChars = options.maxChars ?? 200;
  // Query terms → small ids, so the window's counts live in a typed array.
  const terms = new Map<string, number>();
  for (const t of tokenizer.tokenize(options.query)) if (!terms.has(t)) terms.set(t, terms.size);
  const words: Words = { start: [], end: [], hit: [] };
  if (NON_ASCII.test(text)) splitWords(text, tokenizer, terms, words);
  else splitAsciiWords(text, tokenizer, terms, words);
  const { start, end, hit } = words;
  const n = start.length;
  if (n === 0) return '';
  // Slide a window over words; score = distinct terms, then total hits; earliest wins ties. The
  // window's term counts are kept up to date as it slides (each word enters and leaves once).
  const inWindow = new Int32Array(terms.size);
  let distinct = 0;
  let hits = 0;
  const lastEnd = end[n - 1]!;
  let bestI = 0;
  let bestJ = 0;
  let bestDistinct = -1;
  let bestHits = -1;
  let j = -1;
  for (let i = 0; i < n; i++) {
    if (i > 0 && i - 1 <= j) {
      const h = hit[i - 1]!;
      if (h >= 0) {
        hits--;
        if (--inWindow[h]! === 0) distinct--;
      }
    }
    while (j < i || (j + 1 < n && end[j + 1]! - start[i]! <= maxChars)) {
      const h = hit[++j]!;
      if (h >= 0) {
        hits++;
        if (inWindow[h]!++ === 0) distinct++;
      }
    }
    if (distinct > bestDistinct || (distinct === bestDistinct && hits > bestHits)) {
      bestI = i;
      bestJ = j;
      bestDistinct = distinct;
      bestHits = hits;
    }
    if (end[j]! === lastEnd && i > 0 && bestDistinct >= 0 && distinct <= bestDistinct) break;
  }
  let out = '';
  for (let k = bestI; k <= bestJ; k++) {
    const s = text.slice(start[k]!, end[k]!);
    // Bold only the word itself, not the punctuation around it.
    const bolded = hit[k]! >= 0 ? s.replace(/^([^\p{L}\p{N}]*)(.*?)([^\p{L}\p{N}]*)$/u, '$1**$2**$3') : s;
    out += (k > bestI ? ' ' : '') + bolded;
  }
  if (out.length > maxChars * 1.5) out = out.slice(0, maxChars);
  return (bestI > 0 ? '…' : '') + out + (bestJ < n - 1 ? '…' : '');
}

/**
 * The whitespace-separated words of a text, as parallel arrays: UTF-16 span and the id of the
 * first query term the word holds (−1 for none).
 */
export interface Words {
  start: number[];
  end: number[];
  hit: number[];
}

/** Splits on whitespace and tokenizes each word: the general path. */
export function splitWords(text: string, tokenizer: Tokenizer, terms: ReadonlyMap<string, number>, words: Words): void {
  for (const m of text.matchAll(/\S+/g)) {
    const term = tokenizer.tokenize(m[0]).find((t) => terms.has(t));
    words.start.push(m.index);
    words.end.push(m.index + m[0].length);
    words.hit.push(term === undefined ? -1 : terms.get(term)!);
  }
}

/**
 * The same as `splitWords` for ASCII text, in one scan: a word's tokens are its runs of ASCII
 * letters and digits, each normalised like the tokenizer does (no per-word arrays or regexes).
 */
export function splitAsciiWords(text: string, tokenizer: Tokenizer, terms: ReadonlyMap<string, number>, words: Words): void {
  const n = text.length;
  // Without stemming, a run can only normalise to a query term if it has a term's length (runs
  // longer than maxLength are truncated to it) and first character: most runs fail those two
  // checks, and their strings are never built.
  const { stem, maxLength, lowercase } = tokenizer.config;
  const lengths = new Set<number>();
  const firsts = new Set<number>();
  for (const t of terms.keys()) {
    lengths.add(t.length);
    firsts.add(t.charCodeAt(0));
  }
  let i = 0;
  for (;;) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) return;
    const start = i;
    let hit = -1;
    while (i < n && !isSpace(text.charCodeAt(i))) {
      if (hit >= 0 || !isAsciiWordChar(text.charCodeAt(i))) {
        i++;
        continue;
      }
      const from = i;
      while (i < n && isAsciiWordChar(text.charCodeAt(i))) i++;
      if (!stem) {
        const c = text.charCodeAt(from);
        if (!lengths.has(Math.min(i - from, maxLength)) || !firsts.has(lowercase && c >= 65 && c <= 90 ? c + 32 : c)) continue;
      }
      const term = tokenizer.normalize(text.slice(from, i));
      if (term) hit = terms.get(term) ?? -1;
    }
    words.start.push(start);
    words.end.push(i);
    words.hit.push(hit);
  }
}

/** ASCII whitespace, as `\s` matches it in ASCII text. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}
