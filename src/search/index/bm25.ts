import { z } from 'zod';

/** BM25 parameters. Defaults are Lucene's (k1 = 0.9 as in Anserini/pyserini, b = 0.4). */
export const Bm25Params = z.object({
  /** Term-frequency saturation. */
  k1: z.number().min(0).max(10).default(0.9),
  /** Length normalisation (0 = none, 1 = full). */
  b: z.number().min(0).max(1).default(0.4),
});
export type Bm25Params = z.infer<typeof Bm25Params>;

/**
 * Lucene's BM25 idf: ln(1 + (N − df + 0.5) / (df + 0.5)). Always positive, unlike the classic
 * Robertson idf, so very common terms still add a little.
 */
export function bm25Idf(numDocs: number, df: number): number {
  return Math.log(1 + (numDocs - df + 0.5) / (df + 0.5));
}

/**
 * The per-passage length factor k1·(1 − b + b·len/avgLen), rounded to float32 because that is how
 * it is stored; the builder and the searcher both call this so block maxima match scores exactly.
 */
export function bm25Norm(len: number, avgLen: number, p: Bm25Params): number {
  return Math.fround(p.k1 * (1 - p.b + (p.b * len) / (avgLen || 1)));
}

/**
 * The term-frequency part of BM25 as Lucene computes it: tf / (tf + norm). A term's score in a
 * passage is idf · this (Lucene ≥ 8 drops the constant (k1 + 1) factor; rankings are unchanged).
 */
export function bm25Tf(tf: number, norm: number): number {
  return tf / (tf + norm);
}

/** The smallest float32 ≥ x, so a stored upper bound never undercuts a true score. */
export function f32Ceil(x: number): number {
  const f = Math.fround(x);
  return f >= x ? f : Math.fround(f + Math.max(Math.abs(f) * 2 ** -23, 2 ** -149));
}
