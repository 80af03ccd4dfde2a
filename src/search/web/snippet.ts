import type { Tokenizer } from '../index/tokenizer.js';

/**
 * The window of `text` (about `maxChars` long, cut at word boundaries) holding the most distinct
 * query terms, with those words wrapped in `**`. Prefix/suffix "…" show where text was cut.
 */
export function makeSnippet(options: { text: string; query: string; tokenizer: Tokenizer; maxChars?: number }): string {
  const { text, tokenizer } = options;
  const maxChars = options.maxChars ?? 200;
  const terms = new Set(tokenizer.tokenize(options.query));
  const words: { start: number; end: number; hit: string | null }[] = [];
  for (const m of text.matchAll(/\S+/g)) {
    const toks = tokenizer.tokenize(m[0]);
    const hit = toks.find((t) => terms.has(t)) ?? null;
    words.push({ start: m.index, end: m.index + m[0].length, hit });
  }
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
