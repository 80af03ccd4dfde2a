import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.js';
import { IndexBuilder } from './index-builder.js';
import { Bm25Searcher } from './bm25-searcher.js';

const tiny = ['the cat sat on the mat', 'the dog sat', 'cat cat cat dog', 'a bird flew over the mat'];

describe('Bm25Searcher', () => {
  const b = new IndexBuilder({ params: { k1: 1.2, b: 0.75 }, tokenizer: { stopwords: true } });
  for (const t of tiny) b.add(t);
  const s = new Bm25Searcher(b.finish());

  it('scores match hand-computed BM25 (Lucene idf, tf/(tf+norm))', () => {
    // Tokens after stopwords: p0 [cat sat mat] (3), p1 [dog sat] (2), p2 [cat cat cat dog] (4), p3 [bird flew over mat] (4)
    // avgLen = 13/4 = 3.25; N = 4.
    const N = 4;
    const avg = 13 / 4;
    const idf = (df: number) => Math.log(1 + (N - df + 0.5) / (df + 0.5));
    const norm = (len: number) => Math.fround(1.2 * (1 - 0.75 + (0.75 * len) / avg));
    const p2 = idf(2) * (3 / (3 + norm(4))) + idf(2) * (1 / (1 + norm(4)));
    expect(s.scorePassage('cat dog', 2)).toBeCloseTo(p2, 10);
    // idf(2) = ln(1 + 2.5/2.5) = ln 2
    expect(idf(2)).toBeCloseTo(Math.LN2, 12);
    const p0 = idf(2) * (1 / (1 + norm(3)));
    expect(s.scorePassage('cat', 0)).toBeCloseTo(p0, 10);
    expect(s.scorePassage('unicorn', 0)).toBe(0);
    const top = s.search('cat dog', { k: 2 });
    expect(top.map((r) => r.passage)).toEqual([2, 1]);
    expect(top[0]!.score).toBeCloseTo(p2, 10);
  });

  it('repeated query terms count once per repetition', () => {
    expect(s.scorePassage('cat cat', 0)).toBeCloseTo(2 * s.scorePassage('cat', 0), 12);
  });

  it('pruned top-k equals exhaustive top-k on a random corpus', () => {
    const rng = new Rng(7);
    // Zipf-ish vocabulary so some terms are very common and blocks get skipped.
    const vocab = Array.from({ length: 400 }, (_, i) => `w${i}`);
    const pick = () => vocab[Math.floor(vocab.length * rng.next() ** 3)]!;
    const builder = new IndexBuilder();
    for (let d = 0; d < 3000; d++) {
      const len = rng.int(3, 60);
      builder.add(Array.from({ length: len }, pick).join(' '));
    }
    const searcher = new Bm25Searcher(builder.finish());
    let prunedTotal = 0;
    for (let q = 0; q < 200; q++) {
      const query = Array.from({ length: rng.int(1, 6) }, pick).join(' ');
      const k = rng.choice([1, 5, 10, 50]);
      const stats = { scored: 0, pruned: 0 };
      const got = searcher.search(query, { k, stats });
      const want = searcher.searchExhaustive(query, { k });
      prunedTotal += stats.pruned;
      expect(got.length).toBe(want.length);
      for (let i = 0; i < got.length; i++) expect(got[i]!.score).toBeCloseTo(want[i]!.score, 9);
      // Same passages, allowing order swaps only between (numerically) tied scores.
      const key = (r: { passage: number; score: number }) => `${r.score.toFixed(9)}:${r.passage}`;
      expect(new Set(got.map(key))).toEqual(new Set(want.map(key)));
    }
    expect(prunedTotal).toBeGreaterThan(0);
  });

  it('the merge of short lists and the windowed search return bit-identical results', () => {
    const rng = new Rng(5);
    const vocab = Array.from({ length: 500 }, (_, i) => `m${i}`);
    const pick = () => vocab[Math.floor(vocab.length * rng.next() ** 2)]!;
    const builder = new IndexBuilder();
    for (let d = 0; d < 20_000; d++) builder.add(Array.from({ length: rng.int(2, 20) }, pick).join(' '));
    const data = builder.finish();
    const merged = new Bm25Searcher(data, { mergeMaxPostings: Infinity });
    const windowed = new Bm25Searcher(data, { mergeMaxPostings: 0 });
    for (let q = 0; q < 100; q++) {
      const query = Array.from({ length: rng.int(2, 5) }, pick).join(' ');
      const k = rng.choice([1, 10, 50]);
      expect(merged.search(query, { k })).toEqual(windowed.search(query, { k }));
    }
  });

  it('stays exact across many windows, and equal passages get bit-identical scores', () => {
    const rng = new Rng(3);
    const vocab = Array.from({ length: 60 }, (_, i) => `t${i}`);
    const pick = () => vocab[Math.floor(vocab.length * rng.next() ** 2)]!;
    const builder = new IndexBuilder();
    // 50k passages: several 16k-id windows; every 1000th passage is the same text, the only one with x1 and x2.
    for (let d = 0; d < 50_000; d++) builder.add(d % 1000 === 7 ? 'x1 x2 t1 x1' : Array.from({ length: rng.int(2, 12) }, pick).join(' '));
    const searcher = new Bm25Searcher(builder.finish());
    for (let q = 0; q < 30; q++) {
      const query = Array.from({ length: rng.int(2, 8) }, pick).join(' ');
      const got = searcher.search(query, { k: 10 });
      const want = searcher.searchExhaustive(query, { k: 10 });
      expect(got.map((r) => r.score)).toEqual(want.map((r) => expect.closeTo(r.score, 9) as unknown as number));
    }
    const same = searcher.search('t1 x2 x1', { k: 50 }).filter((r) => r.passage % 1000 === 7);
    expect(same.length).toBe(50);
    expect(new Set(same.map((r) => r.score)).size).toBe(1);
    expect(same.map((r) => r.passage)).toEqual([...same.map((r) => r.passage)].sort((a, b) => a - b));
  });
});
