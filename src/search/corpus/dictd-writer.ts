import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeDictdNumber } from './dictd.js';

/** One entry to write: its headwords (the first is printed as the title line) and its body text. */
export interface DictdEntryInput {
  headwords: string[];
  body: string;
}

/**
 * Writes a small dictd database (`<name>.index` + gzip `<name>.dict.dz`) in the layout dictfmt
 * produces; used to make test fixtures and custom corpora. Returns the two paths.
 */
export function writeDictd(options: { dir: string; name: string; entries: DictdEntryInput[] }): { indexPath: string; dictPath: string } {
  const chunks: Buffer[] = [];
  const lines: string[] = ['00-database-short\tA\tA'];
  let off = 0;
  const rows: [string, number, number][] = [];
  for (const e of options.entries) {
    const text = Buffer.from(`${e.headwords[0]}\n${e.body}\n\n`, 'utf8');
    for (const hw of e.headwords) rows.push([hw, off, text.length]);
    chunks.push(text);
    off += text.length;
  }
  rows.sort((a, b) => (a[0].toLowerCase() < b[0].toLowerCase() ? -1 : 1));
  for (const [hw, o, l] of rows) lines.push(`${hw}\t${encodeDictdNumber(o)}\t${encodeDictdNumber(l)}`);
  const indexPath = join(options.dir, `${options.name}.index`);
  const dictPath = join(options.dir, `${options.name}.dict.dz`);
  writeFileSync(indexPath, lines.join('\n') + '\n');
  writeFileSync(dictPath, gzipSync(Buffer.concat(chunks)));
  return { indexPath, dictPath };
}
