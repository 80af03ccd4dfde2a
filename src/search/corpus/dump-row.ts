import { z } from 'zod';
import type { SearchDocument } from './document.js';

/**
 * A row of a passage dump, in the shapes Search-R1/FlashRAG and DPR use: `{id, contents}` where
 * `contents` is `"Title"\ntext`, or `{id, title, text}`. Full `SearchDocument` rows also pass,
 * with their `url`, `site`, `links`, `facts` and `aliases`.
 */
export const DumpRow = z.looseObject({
  id: z.union([z.string(), z.number(), z.bigint()]).transform(String),
  contents: z.string().optional(),
  title: z.string().optional(),
  text: z.string().optional(),
  url: z.string().optional(),
  site: z.string().optional(),
  links: z.array(z.object({ text: z.string(), url: z.string() })).optional(),
  /** Structured facts (string or number values; Parquet integers arrive as bigint). */
  facts: z.record(z.string(), z.union([z.string(), z.number(), z.bigint().transform(Number)])).optional(),
  aliases: z.array(z.string()).optional(),
});
export type DumpRow = z.infer<typeof DumpRow>;

/** Turns a dump row into a page of `site`, with URL https://<site>.local/doc/<id> unless it has one. */
export function rowToDocument(row: DumpRow, site: string): SearchDocument {
  let title = row.title;
  let text = row.text;
  if (row.contents !== undefined) {
    const nl = row.contents.indexOf('\n');
    const head = nl < 0 ? row.contents : row.contents.slice(0, nl);
    title ??= head.replace(/^"(.*)"$/s, '$1');
    text ??= nl < 0 ? '' : row.contents.slice(nl + 1);
  }
  const s = row.site ?? site;
  return {
    id: `${s}:${row.id}`,
    url: row.url ?? `https://${s}.local/doc/${encodeURIComponent(row.id)}`,
    title: title ?? '',
    text: text ?? '',
    site: s,
    links: row.links ?? [],
    ...(row.facts ? { facts: row.facts } : {}),
    ...(row.aliases?.length ? { aliases: row.aliases } : {}),
  };
}
