import { bm25Idf, bm25Norm, bm25Tf } from './bm25.js';
import type { IndexData } from './index-data.js';
import { NO_MORE_DOCS, PostingCursor, R_DF, R_KEY, R_MAX, TERM_RECORD, TermRecords } from './postings.js';
import { Tokenizer } from './tokenizer.js';
import { TopK, type ScoredPassage } from './top-k.js';

/** Passage ids per window of the multi-term search (a power of two). */
const WINDOW = 16384;
/**
 * Multi-term queries with at most this many postings in all are scored exhaustively by a merge of
 * their posting lists (`searchMerge`): cheaper than setting up windows for a few short lists.
 */
const MERGE_MAX_POSTINGS = 512;

export interface SearcherOptions {
  /** Multi-term queries with at most this many postings are merged, not windowed (for tests). Default 512. */
  mergeMaxPostings?: number;
}

/** A query term after analysis: its id, how often the query repeats it, and its BM25 weight. */
export interface QueryTerm {
  term: string;
  id: number;
  /** Query term frequency (a repeated term counts that many times, as in Lucene's BooleanQuery). */
  qtf: number;
  idf: number;
  df: number;
}

/** Counters from one search, for benchmarks and tests of the pruning. */
export interface SearchStats {
  /** Passages fully scored. */
  scored: number;
  /** Passages looked at but skipped by an upper bound. */
  pruned: number;
}

export interface SearchOptions {
  /** Results to return. Default 10. */
  k?: number;
  /** Filled with counters when given. */
  stats?: SearchStats;
}

/**
 * BM25 top-k over an `IndexData`, with dynamic pruning: block-max MaxScore (Turtle & Flood's
 * MaxScore, refined with per-block score bounds as in Ding & Suel's block-max indexes), evaluated
 * over windows of passage ids (`searchWindows`). Results are those of exhaustive scoring
 * (`searchExhaustive`), ties broken by lower passage id.
 */
export class Bm25Searcher {
  readonly tokenizer: Tokenizer;
  /** Per-term df, bounds, first block and vocabulary entry, one record per term (see `TermRecords`). */
  private readonly terms: TermRecords;
  // Per-query buffers and cursors, reused by `search` (grown by `ensureCapacity`).
  private qIds = new Int32Array(16);
  private qTf = new Int32Array(16);
  private qWeight = new Float64Array(16);
  private qMax = new Float64Array(16);
  private qOrder = new Int32Array(16);
  private sWeight = new Float64Array(16);
  private sUb = new Float64Array(16);
  private sWinBound = new Float64Array(16);
  /** Window accumulator of `searchWindows` (all zero between windows) and its occupancy bits. */
  private readonly acc = new Float64Array(WINDOW);
  private readonly accBits = new Int32Array(WINDOW / 32);
  /** Offsets first touched in the current window, in the order they were (for sparse windows). */
  private readonly touched = new Int32Array(WINDOW);
  private readonly cursors: PostingCursor[] = [];
  private readonly heap = new TopK(10);
  private readonly mergeMaxPostings: number;

  constructor(
    readonly data: IndexData,
    options: SearcherOptions = {},
  ) {
    this.mergeMaxPostings = options.mergeMaxPostings ?? MERGE_MAX_POSTINGS;
    this.tokenizer = new Tokenizer(data.tokenizer);
    const n = data.numPassages;
    const classOf = new Map<number, number>();
    for (let i = 0; i < n; i++) if (!classOf.has(data.passageLen[i]!)) classOf.set(data.passageLen[i]!, classOf.size);
    // Passages have few distinct lengths (153 in the built-in corpus), so a byte per passage (its
    // length class) replaces a float: 4× less memory for an array a query reads at random.
    const normClass = classOf.size <= 0x100 ? new Uint8Array(n) : classOf.size <= 0x10000 ? new Uint16Array(n) : new Uint32Array(n);
    for (let i = 0; i < n; i++) normClass[i] = classOf.get(data.passageLen[i]!)!;
    const normTable = new Float32Array(classOf.size);
    for (const [len, c] of classOf) normTable[c] = bm25Norm(len, data.avgLen, data.params);
    this.terms = new TermRecords(data.postings, data.vocab.offsets, normClass, normTable);
  }

  /** The id of an analysed term, or -1 (reads the term's record, not the vocabulary offsets). */
  private termId(term: string): number {
    return this.data.vocab.lookupIn(term, this.terms.u32, TERM_RECORD, R_KEY);
  }

  private cursor(term: number): PostingCursor {
    return new PostingCursor(this.data.postings, this.terms, term);
  }

  /** The length factor of a passage. */
  private norm(passage: number): number {
    return this.terms.normTable[this.terms.normClass[passage]!]!;
  }

  get numPassages(): number {
    return this.data.numPassages;
  }

  /** Analyses a query into known terms (unknown terms cannot match and are dropped). */
  analyze(query: string): QueryTerm[] {
    const counts = new Map<string, number>();
    for (const t of this.tokenizer.tokenize(query)) counts.set(t, (counts.get(t) ?? 0) + 1);
    const out: QueryTerm[] = [];
    for (const [term, qtf] of counts) {
      const id = this.termId(term);
      if (id < 0) continue;
      const df = this.terms.u32[id * TERM_RECORD + R_DF]!;
      out.push({ term, id, qtf, df, idf: bm25Idf(this.data.numPassages, df) });
    }
    return out;
  }

  /** The BM25 score of one passage for a query (for explanations and tests). */
  scorePassage(query: string, passage: number): number {
    let score = 0;
    for (const q of this.analyze(query)) {
      const c = this.cursor(q.id);
      c.advance(passage);
      if (c.doc === passage) score += q.qtf * q.idf * bm25Tf(c.tf, this.norm(passage));
    }
    return score;
  }

  /**
   * Fills the per-query buffers with the query's known terms (distinct, in first-occurrence order,
   * like `analyze`), then orders them by score bound; returns how many there are. Reuses its
   * buffers and cursors across queries, so a short query allocates almost nothing.
   */
  private prepare(query: string): number {
    const tokens = this.tokenizer.tokenize(query);
    this.ensureCapacity(tokens.length);
    const ids = this.qIds;
    const tfs = this.qTf;
    // Long queries dedupe through a Map; short ones by a scan of the few ids seen so far.
    const seen = tokens.length > 64 ? new Map<number, number>() : undefined;
    let m = 0;
    for (const token of tokens) {
      const id = this.termId(token);
      if (id < 0) continue;
      let j = seen ? (seen.get(id) ?? m) : 0;
      if (!seen) while (j < m && ids[j] !== id) j++;
      if (j < m) tfs[j]!++;
      else {
        seen?.set(id, m);
        ids[m] = id;
        tfs[m++] = 1;
      }
    }
    const rec = this.terms.u32;
    const recMax = this.terms.f32;
    const weight = this.qWeight;
    const max = this.qMax;
    const order = this.qOrder;
    for (let i = 0; i < m; i++) {
      const r = ids[i]! * TERM_RECORD;
      const w = tfs[i]! * bm25Idf(this.data.numPassages, rec[r + R_DF]!);
      weight[i] = w;
      max[i] = w * recMax[r + R_MAX]!;
      // Stable insertion sort by bound (ascending), as `Array.prototype.sort` would order them.
      let j = i;
      while (j > 0 && max[order[j - 1]!]! > max[i]!) {
        order[j] = order[j - 1]!;
        j--;
      }
      order[j] = i;
    }
    return m;
  }

  private ensureCapacity(n: number): void {
    if (n <= this.qIds.length) return;
    const cap = Math.max(n, 2 * this.qIds.length);
    this.qIds = new Int32Array(cap);
    this.qTf = new Int32Array(cap);
    this.qWeight = new Float64Array(cap);
    this.qMax = new Float64Array(cap);
    this.qOrder = new Int32Array(cap);
    this.sWeight = new Float64Array(cap);
    this.sUb = new Float64Array(cap);
    this.sWinBound = new Float64Array(cap);
  }

  /** Top-k passages by BM25 with block-max MaxScore pruning. */
  search(query: string, options: SearchOptions = {}): ScoredPassage[] {
    const k = options.k ?? 10;
    if (k <= 0) return [];
    const m = this.prepare(query);
    if (m === 0) return [];
    // Cursors, weights and ub[i] (bound on the summed score of terms 0..i, the cheapest ones) in
    // ascending order of bound.
    const cur = this.cursors;
    const weight = this.sWeight;
    const ub = this.sUb;
    let acc = 0;
    let postings = 0;
    for (let i = 0; i < m; i++) {
      const t = this.qOrder[i]!;
      if (i < cur.length) cur[i]!.reset(this.qIds[t]!);
      else cur.push(this.cursor(this.qIds[t]!));
      postings += cur[i]!.size;
      weight[i] = this.qWeight[t]!;
      ub[i] = acc += this.qMax[t]!;
    }

    const heap = this.heap;
    heap.reset(k);
    // One term (most short queries): walk its postings, skipping whole blocks whose maximum cannot
    // beat the heap. Scores are the same expression as in `searchWindows` (0 + x is x).
    if (m === 1) {
      let threshold = -Infinity;
      let scored = 0;
      let pruned = 0;
      const c = cur[0]!;
      const w = weight[0]!;
      while (c.doc !== NO_MORE_DOCS) {
        if (w * c.currentBlockMax() <= threshold) {
          pruned++;
          c.advance(c.currentBlockLast() + 1);
          continue;
        }
        const score = w * bm25Tf(c.tf, c.norm());
        scored++;
        if (score > threshold) {
          heap.push(c.doc, score);
          if (heap.full) threshold = heap.threshold;
        }
        c.next();
      }
      if (options.stats) {
        options.stats.scored = scored;
        options.stats.pruned = pruned;
      }
    } else if (postings <= this.mergeMaxPostings) this.searchMerge(m, options.stats);
    else this.searchWindows(m, options.stats);
    return heap.sorted();
  }

  /**
   * Scores every passage that has any query term by merging the terms' posting lists (several
   * terms with few postings). Each score is summed in the order `searchWindows` uses (descending
   * term position), so both give bit-identical scores.
   */
  private searchMerge(m: number, stats: SearchStats | undefined): void {
    const cur = this.cursors;
    const weight = this.sWeight;
    const heap = this.heap;
    let threshold = -Infinity;
    let scored = 0;
    for (;;) {
      let doc = NO_MORE_DOCS;
      for (let i = 0; i < m; i++) if (cur[i]!.doc < doc) doc = cur[i]!.doc;
      if (doc === NO_MORE_DOCS) break;
      let score = 0;
      for (let i = m - 1; i >= 0; i--) {
        const c = cur[i]!;
        if (c.doc !== doc) continue;
        score += weight[i]! * bm25Tf(c.tf, c.norm());
        c.next();
      }
      scored++;
      if (score > threshold) {
        heap.push(doc, score);
        if (heap.full) threshold = heap.threshold;
      }
    }
    if (stats) {
      stats.scored = scored;
      stats.pruned = 0;
    }
  }

  /**
   * Block-max MaxScore over windows of passage ids (several terms). For each window of `WINDOW` ids
   * from the smallest current posting of a term that is essential globally: every term's bound is its weight times the largest block
   * maximum among its blocks overlapping the window; the longest prefix of terms (in ascending order
   * of global bound) whose window bounds sum to at most the threshold is non-essential there (no
   * passage can enter on those terms alone). The essential terms are scored term at a time into a
   * window accumulator (a tight loop per posting, no per-candidate cursor juggling); each candidate,
   * in passage-id order, then gets the non-essential terms added while its bound can still beat the
   * threshold. A window whose terms are all non-essential is skipped without decoding.
   *
   * Every passage's score is summed in the same order, by descending term position (highest bound
   * first), whatever the window: equal passages get bit-identical scores, and ties go to the lower id.
   */
  private searchWindows(m: number, stats: SearchStats | undefined): void {
    const cur = this.cursors;
    const weight = this.sWeight;
    const ub = this.sUb;
    const wb = this.sWinBound;
    const acc = this.acc;
    const bits = this.accBits;
    const touched = this.touched;
    const heap = this.heap;
    let threshold = -Infinity;
    let scored = 0;
    let pruned = 0;
    let a = NO_MORE_DOCS;
    for (let i = 0; i < m; i++) if (cur[i]!.doc < a) a = cur[i]!.doc;
    // Windows start small (the threshold is low at first, so nearly every passage is scored) and
    // double up to WINDOW.
    let size = WINDOW / 8;
    while (a !== NO_MORE_DOCS && ub[m - 1]! > threshold) {
      const end = a + size;
      if (size < WINDOW) size *= 2;
      // wb[i]: bound on the summed score of terms 0..i inside the window.
      let sum = 0;
      let fe = 0;
      for (let i = 0; i < m; i++) {
        sum += weight[i]! * cur[i]!.maxBlockMaxIn(a, end);
        wb[i] = sum;
        if (sum <= threshold) fe = i + 1;
      }
      if (fe < m) {
        let n = 0;
        for (let i = m - 1; i >= fe; i--) n = cur[i]!.accumulate(a, end, weight[i]!, acc, bits, touched, n);
        // Candidates in passage-id order: few (relative to the window) are sorted, many are read
        // off the occupancy bits.
        const words = (end - a) >>> 5;
        const sparse = n * 8 < words;
        if (sparse) sortSmall(touched, n);
        for (let t = 0, wi = 0, word = 0; ; ) {
          let d: number;
          if (sparse) {
            if (t >= n) break;
            d = touched[t++]!;
            bits[d >>> 5] = 0;
          } else {
            while (word === 0 && wi < words) {
              word = bits[wi]!;
              bits[wi++] = 0;
            }
            if (word === 0) break;
            const low = word & -word;
            word ^= low;
            d = ((wi - 1) << 5) | (31 - Math.clz32(low));
          }
          let score = acc[d]!;
          acc[d] = 0;
          const doc = a + d;
          let ok = true;
          for (let i = fe - 1; i >= 0; i--) {
            if (score + wb[i]! <= threshold) {
              ok = false;
              break;
            }
            const c = cur[i]!;
            // The bound of term i's own block at doc is tighter than its window bound.
            if (score + (i > 0 ? wb[i - 1]! : 0) + weight[i]! * c.blockMaxAt(doc) <= threshold) {
              ok = false;
              break;
            }
            c.advance(doc);
            if (c.doc === doc) score += weight[i]! * bm25Tf(c.tf, c.norm());
          }
          if (!ok) {
            pruned++;
            continue;
          }
          scored++;
          if (score > threshold) {
            heap.push(doc, score);
            if (heap.full) threshold = heap.threshold;
          }
        }
      }
      // The next window starts at the next posting of a term that can still produce a candidate on
      // its own account (terms whose global bounds sum to at most the threshold move only when probed).
      let firstGlobal = 0;
      while (firstGlobal < m && ub[firstGlobal]! <= threshold) firstGlobal++;
      a = NO_MORE_DOCS;
      for (let i = firstGlobal; i < m; i++) {
        const c = cur[i]!;
        c.advance(end);
        if (c.doc < a) a = c.doc;
      }
    }
    if (stats) {
      stats.scored = scored;
      stats.pruned = pruned;
    }
  }

  /** Top-k by scoring every posting of every query term (no pruning): the reference for tests. */
  searchExhaustive(query: string, options: SearchOptions = {}): ScoredPassage[] {
    const k = options.k ?? 10;
    const terms = this.analyze(query);
    const acc = new Map<number, number>();
    for (const q of terms) {
      const c = this.cursor(q.id);
      for (; c.doc !== NO_MORE_DOCS; c.next()) {
        acc.set(c.doc, (acc.get(c.doc) ?? 0) + q.qtf * q.idf * bm25Tf(c.tf, this.norm(c.doc)));
      }
    }
    // Same summation order as `search` would not be guaranteed, so rank by the map's sums.
    return [...acc]
      .map(([passage, score]) => ({ passage, score }))
      .sort((a, b) => b.score - a.score || a.passage - b.passage)
      .slice(0, k);
  }

  /** Bytes of memory held by the index arrays (postings, skips, vocabulary, norms). */
  get memoryBytes(): number {
    const p = this.data.postings;
    return (
      p.bytes.byteLength +
      p.blockLast.byteLength +
      p.blockOffset.byteLength +
      p.blockMax.byteLength +
      p.termDf.byteLength +
      p.termBlock.byteLength +
      this.data.vocab.byteLength +
      this.terms.normClass.byteLength +
      this.terms.normTable.byteLength +
      this.terms.byteLength +
      this.data.passageLen.byteLength
    );
  }
}

/** Sorts `xs[0..n)` ascending in place (insertion sort for a few, the typed-array sort beyond). */
function sortSmall(xs: Int32Array, n: number): void {
  if (n > 32) {
    xs.subarray(0, n).sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const x = xs[i]!;
    let j = i - 1;
    while (j >= 0 && xs[j]! > x) {
      xs[j + 1] = xs[j]!;
      j--;
    }
    xs[j + 1] = x;
  }
}
