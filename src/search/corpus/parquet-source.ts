import { basename } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { ConfigError } from '../../core/errors.js';
import { formatZodError } from '../../core/parse.js';
import type { SearchDocument } from './document.js';
import { DumpRow, rowToDocument } from './dump-row.js';

export interface ParquetSourceOptions {
  path: string;
  site?: string;
  limit?: number;
  /** Rows read per batch (memory vs. speed). Default 10,000. */
  batchRows?: number;
}

/** Streams a Parquet passage dump (columns `id` + `contents`, or `id` + `title` + `text`) as documents. */
export async function* readParquetCorpus(options: ParquetSourceOptions): AsyncGenerator<SearchDocument> {
  const site = options.site ?? basename(options.path).replace(/\..*$/, '');
  const file = await asyncBufferFromFile(options.path);
  const metadata = await parquetMetadataAsync(file);
  const total = Number(metadata.num_rows);
  const end = options.limit !== undefined ? Math.min(total, options.limit) : total;
  const batch = options.batchRows ?? 10_000;
  for (let rowStart = 0; rowStart < end; rowStart += batch) {
    const rows = await parquetReadObjects({ file, metadata, rowStart, rowEnd: Math.min(end, rowStart + batch) });
    for (let i = 0; i < rows.length; i++) {
      const parsed = DumpRow.safeParse(rows[i]);
      if (!parsed.success) throw new ConfigError(`${options.path} row ${rowStart + i}: ${formatZodError(parsed.error)}`);
      yield rowToDocument(parsed.data, site);
    }
  }
}
