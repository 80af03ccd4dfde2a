import { z } from 'zod';

/** A hyperlink inside a document: the anchor text as it appears in `text`, and the target URL. */
export const DocLink = z.object({ text: z.string(), url: z.string() });
export type DocLink = z.infer<typeof DocLink>;

/**
 * One page of the emulated web. `id` and `url` are stable across builds of the same source;
 * `site` names the source ("foldoc", "geo", …); `links` point to other pages by URL.
 */
export const SearchDocument = z.object({
  id: z.string().min(1),
  url: z.string().min(1),
  title: z.string(),
  text: z.string(),
  site: z.string().default('local'),
  links: z.array(DocLink).default([]),
  /** Structured facts about the page's subject (used by QA synthesis), e.g. { capital: 'Paris' }. */
  facts: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  /** Other names of the page's subject; QA synthesis accepts them as answers. */
  aliases: z.array(z.string()).optional(),
});
export type SearchDocument = z.infer<typeof SearchDocument>;
