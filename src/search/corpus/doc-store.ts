import { closeSync, openSync, readSync } from 'node:fs';
import { EnvError } from '../../core/errors.js';
import { formatZodError } from '../../core/parse.js';
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
    const doc = this.parse(buf.toString('utf8'), index);
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as number);
    this.cache.set(index, doc);
    return doc;
  }

  /**
   * The build wrote every line from a validated `SearchDocument`, so a line with the expected field
   * types is taken as is (a full schema parse costs more than the read); anything else gets the
   * schema's verdict.
   */
  private parse(line: string, index: number): SearchDocument {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (error) {
      throw new EnvError(`corrupt document ${index} in ${this.path}: invalid JSON: ${(error as Error).message}; rebuild the index`);
    }
    if (isStoredDocument(raw)) return raw;
    const parsed = SearchDocument.safeParse(raw);
    if (!parsed.success) throw new EnvError(`corrupt document ${index} in ${this.path}: ${formatZodError(parsed.error)}; rebuild the index`);
    return parsed.data;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The shape `SearchDocument` gives a document once parsed (defaults filled in). */
function isStoredDocument(v: unknown): v is SearchDocument {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Record<string, unknown>;
  return (
    typeof d.id === 'string' &&
    d.id !== '' &&
    typeof d.url === 'string' &&
    d.url !== '' &&
    typeof d.title === 'string' &&
    typeof d.text === 'string' &&
    typeof d.site === 'string' &&
    Array.isArray(d.links) &&
    d.links.every((l: unknown) => typeof l === 'object' && l !== null && typeof (l as DocLinkLike).text === 'string' && typeof (l as DocLinkLike).url === 'string') &&
    (d.facts === undefined || (typeof d.facts === 'object' && d.facts !== null && Object.values(d.facts).every((x) => typeof x === 'string' || typeof x === 'number')))
  );
}

type DocLinkLike = { text?: unknown; url?: unknown };
