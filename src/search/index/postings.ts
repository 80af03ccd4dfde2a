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
    term: number,
  ) {
    this.reset(term);
  }

  /**
   * Repositions the cursor on the first posting of `term`. Lets a searcher keep a pool of cursors
   * (and their block buffers) across queries instead of allocating them per query.
   */
  reset(term: number): void {
    const p = this.p;
    this.block = this.firstBlock = p.termBlock[term]!;
    this.df = p.termDf[term]!;
    this.endBlock = p.termBlock[term + 1]!;
    this.scanFrom = this.block;
    if (this.block >= this.endBlock) {
      this.doc = NO_MORE_DOCS;
      this.count = 0;
      this.pos = 0;
    } else {
      this.decode(this.block);
      this.doc = this.docs[0]!;
    }
  }

  private decode(b: number): void {
    const p = this.p;
    const bytes = p.bytes;
    const first = this.firstBlock;
    const n = Math.min(BLOCK_SIZE, this.df - (b - first) * BLOCK_SIZE);
    let off = p.blockOffset[b]!;
    let prev = b === first ? -1 : p.blockLast[b - 1]!;
    const docs = this.docs;
    off = readVarints(bytes, off, n, docs);
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
    if (target > last[this.block]!) {
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
  accumulate(from: number, end: number, weight: number, acc: Float64Array, bits: Int32Array, touched: Int32Array, count: number, normClass: ArrayLike<number>, normTable: Float32Array): number {
    let t = count;
    while (this.doc < end) {
      if (!this.tfsReady) this.decodeTfs();
      const docs = this.docs;
      const tfs = this.tfs;
      const n = this.count;
      let i = this.pos;
      let doc = this.doc;
      for (; i < n && (doc = docs[i]!) < end; i++) {
        const d = doc - from;
        const s = weight * bm25Tf(tfs[i]!, normTable[normClass[doc]!]!);
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
    return this.block < this.endBlock ? this.p.blockMax[this.block]! : 0;
  }

  /** Last passage id of the current block. */
  currentBlockLast(): number {
    return this.block < this.endBlock ? this.p.blockLast[this.block]! : NO_MORE_DOCS;
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
