/** A slice of a document's text, in UTF-16 offsets. */
export interface PassageSpan {
  start: number;
  end: number;
}

export interface SplitOptions {
  /** Target words per passage. Default 100 (the size of DPR/Search-R1 Wikipedia passages). */
  words?: number;
  /** A trailing piece shorter than this many words is merged into the previous passage. Default 30. */
  minWords?: number;
}

const WORD_END = /\S+/g;

/**
 * Splits text into consecutive passages of about `words` words, cutting at whitespace and
 * preferring the end of a line or sentence in the last fifth of the window. Short texts give one
 * passage. The spans cover the whole text without overlap.
 */
export function splitPassages(text: string, options: SplitOptions = {}): PassageSpan[] {
  const size = options.words ?? 100;
  const minWords = options.minWords ?? 30;
  const ends: number[] = [];
  const starts: number[] = [];
  for (const m of text.matchAll(WORD_END)) {
    starts.push(m.index);
    ends.push(m.index + m[0].length);
  }
  if (starts.length <= size + minWords) return [{ start: 0, end: text.length }];
  const spans: PassageSpan[] = [];
  let w = 0;
  let start = 0;
  while (w < starts.length) {
    const remaining = starts.length - w;
    if (remaining <= size + minWords) {
      spans.push({ start, end: text.length });
      break;
    }
    let cut = w + size; // first word of the next passage
    for (let j = w + size; j > w + Math.floor(size * 0.8); j--) {
      const prevEnd = ends[j - 1]!;
      const ch = text[prevEnd - 1]!;
      if (ch === '.' || ch === '!' || ch === '?' || text.slice(prevEnd, starts[j]!).includes('\n')) {
        cut = j;
        break;
      }
    }
    spans.push({ start, end: starts[cut]! });
    start = starts[cut]!;
    w = cut;
  }
  return spans;
}
