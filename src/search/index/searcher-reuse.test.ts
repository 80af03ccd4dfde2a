import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.js';
import { Bm25Searcher } from './bm25-searcher.js';
import { IndexBuilder } from './index-builder.js';
import { StringTable } from './string-table.js';

describe('StringTable.lookup', () => {
  it('finds ASCII and non-ASCII strings and misses absent ones', () => {
    const words = ['cat', 'café', 'naïve', '東京', 'x', 'a'.repeat(300)];
    const t = StringTable.build(words);
    words.forEach((w, i) => expect(t.lookup(w)).toBe(i));
    for (const w of ['dog', 'cafe', 'ca', '東', '', 'a'.repeat(299)]) expect(t.lookup(w)).toBe(-1);
  });
});

describe('Bm25Searcher buffer reuse', () => {
  it('gives the same results as a fresh searcher across queries of every size and k', () => {
    const rng = new Rng(11);
    const vocab = Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? `wé${i}` : `w${i}`));
    const pick = () => vocab[Math.floor(vocab.length * rng.next() ** 2)]!;
    const builder = new IndexBuilder();
    for (let d = 0; d < 2000; d++) builder.add(Array.from({ length: rng.int(2, 40) }, pick).join(' '));
    const data = builder.finish();
    const reused = new Bm25Searcher(data);
    for (let q = 0; q < 150; q++) {
      // Up to 100 tokens, so the Map path for long queries and buffer growth are exercised too.
      const query = Array.from({ length: rng.choice([1, 2, 3, 8, 100]) }, pick).join(' ');
      const k = rng.choice([1, 3, 10, 40]);
      const got = reused.search(query, { k });
      expect(got).toEqual(new Bm25Searcher(data).search(query, { k }));
      const want = reused.searchExhaustive(query, { k });
      expect(got.map((r) => r.score)).toEqual(want.map((r) => expect.closeTo(r.score, 9) as unknown as number));
    }
  });
});
