import { Bm25Params, bm25Norm, bm25Tf, f32Ceil } from './bm25.js';
import { ByteWriter, Growable } from './growable.js';
import type { IndexData } from './index-data.js';
import { BLOCK_SIZE, type PostingsData } from './postings.js';
import { StringTable } from './string-table.js';
import { Tokenizer, type TokenizerConfig } from './tokenizer.js';

export interface IndexBuilderOptions {
  params?: Partial<Bm25Params>;
  tokenizer?: Partial<TokenizerConfig>;
}

/**
 * Builds a BM25 index from passages added one at a time (a stream), in flat memory: each passage's
 * (term, tf) pairs go into growable typed arrays (~6 bytes per unique term per passage), and
 * `finish()` inverts them with a counting sort and encodes the blocks. Passage ids are assigned in
 * the order passages are added, starting at 0.
 */
export class IndexBuilder {
  readonly tokenizer: Tokenizer;
  readonly params: Bm25Params;
  private readonly termIds = new Map<string, number>();
  private readonly terms: string[] = [];
  private readonly fwdTerm = new Growable(Uint32Array, 1 << 16);
  private readonly fwdTf = new Growable(Uint16Array, 1 << 16);
  private readonly passageLen = new Growable(Uint32Array, 1 << 12);
  private readonly passageEnd = new Growable(Uint32Array, 1 << 12);
  private finished = false;
  private scratch = new Uint32Array(1 << 16);
  private readonly touched: number[] = [];

  constructor(options: IndexBuilderOptions = {}) {
    this.params = Bm25Params.parse(options.params ?? {});
    this.tokenizer = new Tokenizer(options.tokenizer ?? {});
  }

  /** Passages added so far. */
  get numPassages(): number {
    return this.passageLen.length;
  }

  /** Tokenizes and adds one passage; returns its passage id. */
  add(text: string): number {
    return this.addTokens(this.tokenizer.tokenize(text));
  }

  /** Adds one passage from already-analysed tokens; returns its passage id. */
  addTokens(tokens: readonly string[]): number {
    if (this.finished) throw new Error('IndexBuilder.add after finish()');
    // Count term frequencies in a reusable scratch array indexed by term id.
    const touched = this.touched;
    touched.length = 0;
    for (const tok of tokens) {
      let id = this.termIds.get(tok);
      if (id === undefined) {
        id = this.terms.length;
        this.termIds.set(tok, id);
        this.terms.push(tok);
        if (id >= this.scratch.length) {
          const next = new Uint32Array(this.scratch.length * 2);
          next.set(this.scratch);
          this.scratch = next;
        }
      }
      const prev = this.scratch[id]!;
      this.scratch[id] = prev + 1;
      if (prev === 0) touched.push(id);
    }
    for (const id of touched) {
      this.fwdTerm.push(id);
      this.fwdTf.push(Math.min(this.scratch[id]!, 0xffff));
      this.scratch[id] = 0;
    }
    this.passageLen.push(tokens.length);
    this.passageEnd.push(this.fwdTerm.length);
    return this.passageLen.length - 1;
  }

  /** Inverts and encodes everything added; the builder cannot be used afterwards. */
  finish(): IndexData {
    this.finished = true;
    const numTerms = this.terms.length;
    const numPassages = this.passageLen.length;
    const passageLen = this.passageLen.toArray();
    let total = 0;
    for (let i = 0; i < numPassages; i++) total += passageLen[i]!;
    const avgLen = numPassages ? total / numPassages : 0;
    const norms = new Float32Array(numPassages);
    for (let i = 0; i < numPassages; i++) norms[i] = bm25Norm(passageLen[i]!, avgLen, this.params);

    // Counting sort of the forward pairs by term: postings come out in passage order.
    const fwdTerm = this.fwdTerm.raw;
    const fwdTf = this.fwdTf.raw;
    const nPairs = this.fwdTerm.length;
    const termDf = new Uint32Array(numTerms);
    for (let i = 0; i < nPairs; i++) termDf[fwdTerm[i]!]!++;
    const start = new Uint32Array(numTerms + 1);
    for (let t = 0; t < numTerms; t++) start[t + 1] = start[t]! + termDf[t]!;
    const fill = start.slice(0, numTerms);
    const invDoc = new Uint32Array(nPairs);
    const invTf = new Uint16Array(nPairs);
    const ends = this.passageEnd.raw;
    let pair = 0;
    for (let p = 0; p < numPassages; p++) {
      const end = ends[p]!;
      for (; pair < end; pair++) {
        const t = fwdTerm[pair]!;
        const at = fill[t]!++;
        invDoc[at] = p;
        invTf[at] = fwdTf[pair]!;
      }
    }

    let numBlocks = 0;
    const termBlock = new Uint32Array(numTerms + 1);
    for (let t = 0; t < numTerms; t++) {
      termBlock[t] = numBlocks;
      numBlocks += Math.ceil(termDf[t]! / BLOCK_SIZE);
    }
    termBlock[numTerms] = numBlocks;
    const blockLast = new Uint32Array(numBlocks);
    const blockOffset = new Uint32Array(numBlocks + 1);
    const blockMax = new Float32Array(numBlocks);
    const w = new ByteWriter();
    let b = 0;
    for (let t = 0; t < numTerms; t++) {
      const s = start[t]!;
      const e = start[t + 1]!;
      let prev = -1;
      for (let i = s; i < e; i += BLOCK_SIZE) {
        const j = Math.min(e, i + BLOCK_SIZE);
        blockOffset[b] = w.length;
        let max = 0;
        for (let k = i; k < j; k++) {
          const d = invDoc[k]!;
          w.varint(d - prev - 1);
          prev = d;
          const s2 = bm25Tf(invTf[k]!, norms[d]!);
          if (s2 > max) max = s2;
        }
        for (let k = i; k < j; k++) w.varint(invTf[k]!);
        blockLast[b] = prev;
        blockMax[b] = f32Ceil(max);
        b++;
      }
    }
    if (w.length > 0xffffffff) throw new RangeError('postings larger than 4 GiB: split the corpus into shards');
    blockOffset[numBlocks] = w.length;
    const postings: PostingsData = { termDf, termBlock, blockLast, blockOffset, blockMax, bytes: w.toArray() };
    const vocab = StringTable.build(this.terms);
    this.termIds.clear();
    return { params: this.params, tokenizer: this.tokenizer.config, numPassages, avgLen, vocab, postings, passageLen };
  }
}
