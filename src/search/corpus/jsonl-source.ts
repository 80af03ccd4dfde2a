import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError } from '../../core/errors.js';
import { safeParseJson } from '../../core/parse.js';
import type { SearchDocument } from './document.js';
import { DumpRow, rowToDocument } from './dump-row.js';

export interface JsonlSourceOptions {
  path: string;
  /** Site name for the pages (default: the file name without extensions). */
  site?: string;
  /** Stop after this many rows. */
  limit?: number;
}

/** Streams a JSONL passage dump (`{id, contents}` or `{id, title, text}` per line) as documents. */
export async function* readJsonlCorpus(options: JsonlSourceOptions): AsyncGenerator<SearchDocument> {
  const site = options.site ?? basename(options.path).replace(/\..*$/, '');
  const lines = createInterface({ input: createReadStream(options.path, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (!line.trim()) continue;
    const parsed = safeParseJson(line, DumpRow);
    if (!parsed.success) throw new ConfigError(`${options.path}:${lineNo}: not a corpus row (${parsed.error}); expected {id, contents} or {id, title, text}`);
    yield rowToDocument(parsed.data, site);
    if (options.limit !== undefined && ++n >= options.limit) break;
  }
}
