import type { Bm25Params } from './bm25.js';
import type { PostingsData } from './postings.js';
import type { StringTable } from './string-table.js';
import type { TokenizerConfig } from './tokenizer.js';

/** Everything a BM25 searcher needs, as flat arrays (what the builder produces and the file stores). */
export interface IndexData {
  params: Bm25Params;
  tokenizer: TokenizerConfig;
  numPassages: number;
  /** Mean passage length in tokens. */
  avgLen: number;
  /** Term string → term id. */
  vocab: StringTable;
  postings: PostingsData;
  /** [N] passage length in tokens (after stopwords). */
  passageLen: Uint32Array;
}
