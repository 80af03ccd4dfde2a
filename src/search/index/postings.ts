import { bm25Tf } from './bm25.js';

/** Postings per block: block maxima and skips work at this granularity. */
export const BLOCK_SIZE = 128;
/** Returned by a cursor past its last posting. */
export const NO_MORE_DOCS = 0x7fffffff;

/**
 * The flat arrays that hold every term's postings. A term's postings are split into blocks of
 * `BLOCK_SIZE`; each block stores varint (gap − 1) passage ids then varint term frequencies.
 */
export interface PostingsData {
  /** [T] passages containing each term. */
  termDf: Uint32Array;
  /** [T + 1] first block of each term (term t owns blocks termBlock[t]..termBlock[t+1]). */
  termBlock: Uint32Array;
  /** [B] last passage id in each block (skip pointer). */
  blockLast: Uint32Array;
  /** [B + 1] byte offset of each block in `bytes`. */
  blockOffset: Uint32Array;
  /** [B] max over the block of tf / (tf + norm): multiply by idf for the block's score bound. */
  blockMax: Float32Array;
  /** Encoded postings. */
  bytes: Uint8Array;
}

/** Uint32 fields per term record: 32 bytes, so two records share a 64-byte cache line and none straddles one. */
export const TERM_RECORD = 8;
/** Passages containing the term. */
export const R_DF = 0;
/** The term's first block (it owns ⌈df / BLOCK_SIZE⌉ blocks from there). */
const R_BLOCK = 1;
/** Max over the term's blocks of the tf factor (float32 bits). */
export const R_MAX = 2;
/** Byte offset and last passage id of the term's first block. */
const R_OFFSET = 3;
const R_LAST = 4;
/** A one-block term: where its postings' length classes start in `TermRecords.classes` (else unused). */
const R_CLASSES = 5;
/** Where the term's UTF-8 string starts in the vocabulary blob, and its length in bytes. */
export const R_KEY = 6;

/**
 * What a query reads about a term besides its postings bytes, laid out for few cache misses. A short
 * query is mostly cache and TLB misses on an index another process or engine has just evicted, so:
 * - one 32-byte record per term holds its df, first block, score bound, the first block's offset
 *   and last passage, and where its string is in the vocabulary: one cold line, where the arrays
 *   these come from (termDf, termBlock, blockOffset, blockLast, the vocabulary offsets, the bounds)
 *   cost a line each;
 * - terms with one block (df ≤ BLOCK_SIZE: most terms of short queries) keep a copy of their
 *   passages' length classes, in posting order (`classes`), so scoring them reads one or two lines
 *   instead of one line of the passage table per posting.
 * Built when a searcher opens an index (the file format is unchanged).
 */
export class TermRecords {
  readonly u32: Uint32Array;
  /** The same memory as float32, for the bound field. */
  readonly f32: Float32Array;
  /** The length classes of one-block terms' postings, term after term (see R_CLASSES). */
  readonly classes: Uint8Array | Uint16Array | Uint32Array;

  constructor(
    p: PostingsData,
    keyOffsets: Uint32Array,
    /** [N] each passage's length class: an index into `normTable`. */
    readonly normClass: Uint8Array | Uint16Array | Uint32Array,
    /** The length factor k1·(1 − b + b·len/avgLen) of each class. */
    readonly normTable: Float32Array,
  ) {
    const nTerms = p.termDf.length;
    this.u32 = new Uint32Array(nTerms * TERM_RECORD);
    this.f32 = new Float32Array(this.u32.buffer);
    let nClasses = 0;
    for (let t = 0; t < nTerms; t++) if (p.termDf[t]! <= BLOCK_SIZE) nClasses += p.termDf[t]!;
    this.classes = new (normClass.constructor as Uint8ArrayConstructor)(nClasses);
    const docs = new Int32Array(BLOCK_SIZE);
    nClasses = 0;
    for (let t = 0; t < nTerms; t++) {
      const r = t * TERM_RECORD;
      const first = p.termBlock[t]!;
      const end = p.termBlock[t + 1]!;
      if (end - first !== Math.ceil(p.termDf[t]! / BLOCK_SIZE)) throw new RangeError(`term ${t} has ${end - first} blocks for df ${p.termDf[t]}: the index is corrupt; rebuild it`);
      let max = 0;
      for (let b = first; b < end; b++) if (p.blockMax[b]! > max) max = p.blockMax[b]!;
      this.u32[r + R_DF] = p.termDf[t]!;
      this.u32[r + R_BLOCK] = first;
      this.f32[r + R_MAX] = max;
      if (end > first) {
        this.u32[r + R_OFFSET] = p.blockOffset[first]!;
        this.u32[r + R_LAST] = p.blockLast[first]!;
      }
      if (end === first + 1) {
        const n = p.termDf[t]!;
        this.u32[r + R_CLASSES] = nClasses;
        readVarints(p.bytes, p.blockOffset[first]!, n, docs);
        for (let i = 0, doc = -1; i < n; i++) this.classes[nClasses++] = normClass[(doc += docs[i]! + 1)]!;
      }
      this.u32[r + R_KEY] = keyOffsets[t]!;
      this.u32[r + R_KEY + 1] = keyOffsets[t + 1]! - keyOffsets[t]!;
    }
  }

  /** Bytes of the records and class copies (not of the passage table or the postings). */
  get byteLength(): number {
    return this.u32.byteLength + this.classes.byteLength;
  }
}

/**
 * Iterates one term's postings in passage-id order, decoding one block at a time, with block
 * skipping for `advance` and non-decoding lookups of block maxima (for block-max pruning).
 */
export class PostingCursor {
  /** Current passage id, or NO_MORE_DOCS. */
  doc = -1;
  /** Term frequency at `doc` (a block's frequencies are decoded on first use: probes that miss never need them). */
  get tf(): number {
    if (this.doc === NO_MORE_DOCS) return 0;
    if (!this.tfsReady) this.decodeTfs();
    return this.tfs[this.pos]!;
  }
  private block = 0;
  /** A one-block term: where its length classes start in `terms.classes`; −1 otherwise. */
  private classAt = -1;
  /** Last passage id and tf-factor maximum of the current block (while block < endBlock). */
  private blockLast = 0;
  private blockMax = 0;
  private endBlock = 0;
  private firstBlock = 0;
  private df = 0;
  private readonly docs = new Int32Array(BLOCK_SIZE);
  private readonly tfs = new Int32Array(BLOCK_SIZE);
  private pos = 0;
  private count = 0;
  /** Byte offset of the current block's frequencies, and whether `tfs` holds them. */
  private tfOff = 0;
  private tfsReady = false;
  /**
   * A block at or after `block` that ends before the last `blockMaxAt` target (or `block`): where
   * the next forward block search may start, so repeated bound checks with rising targets do not
   * rescan the same skip entries.
   */
  private scanFrom = 0;

  constructor(
    private readonly p: PostingsData,
    private readonly terms: TermRecords,
    term: number,
  ) {
    this.reset(term);
  }

  /**
   * Repositions the cursor on the first posting of `term`. Lets a searcher keep a pool of cursors
   * (and their block buffers) across queries instead of allocating them per query. Reads only the
   * term's record and its first block's bytes.
   */
  reset(term: number): void {
    const r = term * TERM_RECORD;
    const u = this.terms.u32;
    const df = u[r + R_DF]!;
    this.df = df;
    this.block = this.firstBlock = this.scanFrom = u[r + R_BLOCK]!;
    this.endBlock = this.block + Math.ceil(df / BLOCK_SIZE);
    this.classAt = df <= BLOCK_SIZE ? u[r + R_CLASSES]! : -1;
    if (df === 0) {
      this.doc = NO_MORE_DOCS;
      this.count = 0;
      this.pos = 0;
    } else {
      this.blockLast = u[r + R_LAST]!;
      this.blockMax = df <= BLOCK_SIZE ? this.terms.f32[r + R_MAX]! : this.p.blockMax[this.block]!;
      this.decodeAt(u[r + R_OFFSET]!, -1, df);
      this.doc = this.docs[0]!;
    }
  }

  /** Postings of the term. */
  get size(): number {
    return this.df;
  }

  /** The length factor of the passage at `doc` (call only while doc < NO_MORE_DOCS). */
  norm(): number {
    const t = this.terms;
    return t.normTable[this.classAt >= 0 ? t.classes[this.classAt + this.pos]! : t.normClass[this.doc]!]!;
  }

  /** True when the term has a single block (most rare terms): its bounds are in the cursor's fields. */
  private get oneBlock(): boolean {
    return this.classAt >= 0; // set by `reset` exactly for terms of at most BLOCK_SIZE postings
  }

  /** Makes block `b` (after the first) current and decodes its passage ids. */
  private decode(b: number): void {
    const p = this.p;
    this.blockLast = p.blockLast[b]!;
    this.blockMax = p.blockMax[b]!;
    this.decodeAt(p.blockOffset[b]!, p.blockLast[b - 1]!, this.df - (b - this.firstBlock) * BLOCK_SIZE);
  }

  /** Decodes the passage ids of the block at byte `off` (up to `left` postings) that follow passage `prev`. */
  private decodeAt(off: number, prev: number, left: number): void {
    const n = Math.min(BLOCK_SIZE, left);
    const docs = this.docs;
    off = readVarints(this.p.bytes, off, n, docs);
    for (let i = 0; i < n; i++) docs[i] = prev = prev + docs[i]! + 1;
    this.tfOff = off;
    this.tfsReady = false;
    this.count = n;
    this.pos = 0;
  }

  /** Decodes the current block's term frequencies (they follow its passage ids). */
  private decodeTfs(): void {
    readVarints(this.p.bytes, this.tfOff, this.count, this.tfs);
    this.tfsReady = true;
  }

  /** Moves to the next posting. */
  next(): void {
    if (++this.pos < this.count) {
      this.doc = this.docs[this.pos]!;
      return;
    }
    if (++this.block >= this.endBlock) {
      this.doc = NO_MORE_DOCS;
      return;
    }
    this.decode(this.block);
    this.doc = this.docs[0]!;
  }

  /** Moves to the first posting with passage id ≥ target. */
  advance(target: number): void {
    if (this.doc >= target) return;
    const last = this.p.blockLast;
    if (target > this.blockLast) {
      let b = this.firstBlockBefore(target);
      while (b < this.endBlock && last[b]! < target) b++;
      if (b >= this.endBlock) {
        this.block = this.endBlock;
        this.doc = NO_MORE_DOCS;
        return;
      }
      this.block = b;
      this.decode(b);
    }
    const docs = this.docs;
    let i = this.pos;
    while (docs[i]! < target) i++;
    this.pos = i;
    this.doc = docs[i]!;
  }

  /**
   * The block-max tf factor of the block that would hold `target`, without decoding (0 when the
   * term has no posting ≥ target). Does not move the cursor.
   */
  blockMaxAt(target: number): number {
    if (this.oneBlock) return this.block < this.endBlock && this.blockLast >= target ? this.blockMax : 0;
    const last = this.p.blockLast;
    let b = this.firstBlockBefore(target);
    while (b < this.endBlock && last[b]! < target) b++;
    this.scanFrom = b;
    return b < this.endBlock ? this.p.blockMax[b]! : 0;
  }

  /** A block index ≤ the first block whose last passage is ≥ `target` (for forward scans). */
  private firstBlockBefore(target: number): number {
    const from = this.scanFrom;
    return from > this.block && this.p.blockLast[from - 1]! < target ? from : this.block;
  }

  /**
   * The largest block maximum among this term's blocks that may hold postings in [from, end),
   * without decoding or moving the cursor (0 when there are none).
   */
  maxBlockMaxIn(from: number, end: number): number {
    if (this.doc >= end) return 0;
    if (this.oneBlock) return this.blockLast >= from ? this.blockMax : 0;
    const p = this.p;
    const last = p.blockLast;
    const max = p.blockMax;
    let b = from > this.doc ? this.firstBlockBefore(from) : this.block;
    while (b < this.endBlock && last[b]! < from) b++;
    if (b > this.block) this.scanFrom = b;
    let m = 0;
    for (; b < this.endBlock; b++) {
      if (max[b]! > m) m = max[b]!;
      if (last[b]! >= end - 1) break;
    }
    return m;
  }

  /**
   * Adds weight · tf / (tf + norm) of every posting in [from, end) into `acc[doc − from]`. A slot
   * seen for the first time (its bit in `bits` unset) takes the value instead (so a window's first
   * term is not added to a stale 0 + …), gets its bit set, and its offset appended to `touched` at
   * `count`. Leaves the cursor on the first posting ≥ end; returns the new count.
   */
  accumulate(from: number, end: number, weight: number, acc: Float64Array, bits: Int32Array, touched: Int32Array, count: number): number {
    let t = count;
    const { normClass, normTable, classes } = this.terms;
    const classAt = this.classAt;
    while (this.doc < end) {
      if (!this.tfsReady) this.decodeTfs();
      const docs = this.docs;
      const tfs = this.tfs;
      const n = this.count;
      let i = this.pos;
      let doc = this.doc;
      for (; i < n && (doc = docs[i]!) < end; i++) {
        const d = doc - from;
        const s = weight * bm25Tf(tfs[i]!, normTable[classAt >= 0 ? classes[classAt + i]! : normClass[doc]!]!);
        const bit = 1 << (d & 31);
        const w = d >>> 5;
        if ((bits[w]! & bit) === 0) {
          bits[w] = bits[w]! | bit;
          acc[d] = s;
          touched[t++] = d;
        } else acc[d] = acc[d]! + s;
      }
      if (i < n) {
        this.pos = i;
        this.doc = doc;
        return t;
      }
      // Block exhausted: move to the next one (or the end).
      this.pos = n - 1;
      this.next();
    }
    return t;
  }

  /** Block-max tf factor of the current block. */
  currentBlockMax(): number {
    return this.block < this.endBlock ? this.blockMax : 0;
  }

  /** Last passage id of the current block. */
  currentBlockLast(): number {
    return this.block < this.endBlock ? this.blockLast : NO_MORE_DOCS;
  }
}

/**
 * Decodes `n` varints (7 bits per byte, low first) from `bytes` at `off` into `out`; returns the
 * offset after them. Most gaps and frequencies fit one byte, so that case skips the continuation loop.
 */
function readVarints(bytes: Uint8Array, off: number, n: number, out: Int32Array): number {
  for (let i = 0; i < n; i++) {
    let byte = bytes[off++]!;
    let v = byte;
    if (byte >= 0x80) {
      v &= 0x7f;
      let shift = 7;
      do {
        byte = bytes[off++]!;
        v |= (byte & 0x7f) << shift;
        shift += 7;
      } while (byte & 0x80);
    }
    out[i] = v;
  }
  return off;
}
