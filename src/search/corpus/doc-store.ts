import { closeSync, openSync, readSync } from 'node:fs';
import { EnvError } from '../../core/errors.js';
import { safeParseJson } from '../../core/parse.js';
import { SearchDocument } from './document.js';

/** Random access to a corpus's documents by their position (document index). */
export interface DocStore {
  readonly size: number;
  get(index: number): SearchDocument;
  close?(): void;
}

/** Documents held in memory (small corpora, tests). */
export class MemoryDocStore implements DocStore {
  constructor(private readonly docs: readonly SearchDocument[]) {}
  get size(): number {
    return this.docs.length;
  }
  get(index: number): SearchDocument {
    const d = this.docs[index];
    if (!d) throw new RangeError(`document index ${index} out of range 0..${this.docs.length - 1}`);
    return d;
  }
}

/**
 * Documents in a JSONL file read on demand with positional reads: only the byte offsets
 * (8 bytes per document) stay in memory. Each line is validated against `SearchDocument`.
 */
export class FileDocStore implements DocStore {
  private fd: number;
  private readonly cache = new Map<number, SearchDocument>();

  constructor(
    private readonly path: string,
    /** [D + 1] byte offset of each line. */
    private readonly offsets: Float64Array,
    private readonly cacheSize = 256,
  ) {
    this.fd = openSync(path, 'r');
  }

  get size(): number {
    return this.offsets.length - 1;
  }

  get(index: number): SearchDocument {
    const hit = this.cache.get(index);
    if (hit) return hit;
    if (index < 0 || index >= this.size) throw new RangeError(`document index ${index} out of range 0..${this.size - 1}`);
    const a = this.offsets[index]!;
    const len = this.offsets[index + 1]! - a;
    const buf = Buffer.allocUnsafe(len);
    readSync(this.fd, buf, 0, len, a);
    const parsed = safeParseJson(buf.toString('utf8'), SearchDocument);
    if (!parsed.success) throw new EnvError(`corrupt document ${index} in ${this.path}: ${parsed.error}`);
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as number);
    this.cache.set(index, parsed.data);
    return parsed.data;
  }

  close(): void {
    closeSync(this.fd);
  }
}
