import { describe, expect, it } from 'vitest';
import { splitPassages } from './passages.js';

describe('splitPassages', () => {
  it('keeps short texts whole', () => {
    expect(splitPassages('a b c')).toEqual([{ start: 0, end: 5 }]);
  });

  it('cuts long texts into ~N-word spans that tile the text, preferring sentence ends', () => {
    const words = Array.from({ length: 350 }, (_, i) => (i % 45 === 44 ? `w${i}.` : `w${i}`));
    const text = words.join(' ');
    const spans = splitPassages(text, { words: 100, minWords: 30 });
    expect(spans.length).toBe(4);
    expect(spans[0]!.start).toBe(0);
    expect(spans.at(-1)!.end).toBe(text.length);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.start).toBe(spans[i - 1]!.end);
    // First cut falls after "w89." (a sentence end inside the last fifth of the window).
    expect(text.slice(spans[0]!.start, spans[0]!.end).trim().endsWith('w89.')).toBe(true);
    for (const s of spans) {
      const n = text.slice(s.start, s.end).trim().split(/\s+/).length;
      expect(n).toBeGreaterThanOrEqual(80);
      expect(n).toBeLessThanOrEqual(130);
    }
  });
});
