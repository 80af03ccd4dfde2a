import { z } from 'zod';
import { ConfigError, EnvError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { PassageHit, SearchBackend } from '../backend.js';
import type { SearchDocument } from '../corpus/document.js';
import { Tokenizer, type TokenizerConfig } from '../index/tokenizer.js';
import { layoutPage, type PageLayout } from './page-lines.js';
import { makeSnippet } from './snippet.js';
import type { FindResult, PageView, SerpPage, SerpResult } from './web-types.js';

/** Curriculum knobs: how hard and how realistic the emulated web is. */
export const WebNoise = z.object({
  /** Probability that each result on a page is replaced by a plausible but less relevant one. */
  replaceProb: z.number().min(0).max(1).default(0),
  /** Distractors are drawn from ranks (pageEnd, pageEnd + distractorDepth] of the same query. */
  distractorDepth: z.number().int().min(1).max(500).default(40),
  /** Added delay per search/open, in ms. */
  latencyMs: z.number().int().min(0).max(60_000).default(0),
});
export type WebNoise = z.infer<typeof WebNoise>;

/** Settings of the emulated web; the same corpus, settings and seed give the same pages. */
export const WebConfig = z.object({
  seed: z.number().int().default(0),
  /** Results per page. */
  pageSize: z.number().int().min(1).max(50).default(10),
  /** Snippet length in characters. */
  snippetChars: z.number().int().min(20).max(2000).default(200),
  /** Line width when pages are laid out. */
  lineWidth: z.number().int().min(20).max(400).default(80),
  /** Lines shown per `open`. */
  viewLines: z.number().int().min(1).max(500).default(40),
  /**
   * How results pages are shown to a model: 'full' (header, URLs, highlighted snippets, paging
   * footer) or 'compact' (one `【i†title】 snippet` line per result, no highlighting: short
   * observations for tiny models).
   */
  serpFormat: z.enum(['full', 'compact']).default('full'),
  /**
   * How opened pages are shown: 'full' (title, URL, cursor, "viewing lines a–b of N", numbered
   * lines, scroll hint) or 'compact' (the title, then the shown lines as they are).
   */
  pageFormat: z.enum(['full', 'compact']).default('full'),
  /** Most matches `find` returns. */
  maxFindMatches: z.number().int().min(1).max(500).default(20),
  /** Deepest result rank reachable by paging. */
  maxResults: z.number().int().min(1).max(1000).default(200),
  noise: WebNoise.default(WebNoise.parse({})),
});
export type WebConfig = z.infer<typeof WebConfig>;
export type WebConfigInput = z.input<typeof WebConfig>;

/** Query and pattern limits shared by the server and the tools. */
export const WEB_LIMITS = { maxQueryChars: 512, maxPatternChars: 200, maxPage: 100 } as const;

/** How a caller names a page: URL or document id. */
export type PageRef = { url: string } | { id: string };

/**
 * The emulated web over a search backend: results pages with snippets, pages as numbered-line
 * windows with link ids, and find-in-page. Stateless (each call names what it wants); see `Browser`
 * for the per-episode session that tools use.
 */
export class SearchWeb {
  readonly config: WebConfig;
  private readonly tokenizer: Tokenizer;
  private readonly layouts = new Map<string, PageLayout>();

  constructor(
    readonly backend: SearchBackend,
    config: WebConfigInput = {},
    tokenizer?: Partial<TokenizerConfig>,
  ) {
    const parsed = WebConfig.safeParse(config);
    if (!parsed.success) throw new ConfigError(`invalid web config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    this.config = parsed.data;
    this.tokenizer = new Tokenizer(tokenizer ?? {});
  }

  /** A results page (1-based `page`). Throws ConfigError for empty/too-long queries or bad pages. */
  async search(options: { query: string; page?: number; pageSize?: number }): Promise<SerpPage> {
    const query = options.query.trim();
    const page = options.page ?? 1;
    const pageSize = options.pageSize ?? this.config.pageSize;
    if (!query) throw new ConfigError('empty query');
    if (query.length > WEB_LIMITS.maxQueryChars) throw new ConfigError(`query too long (${query.length} chars; max ${WEB_LIMITS.maxQueryChars})`);
    if (!Number.isInteger(page) || page < 1 || page > WEB_LIMITS.maxPage) throw new ConfigError(`page must be an integer in 1..${WEB_LIMITS.maxPage}`);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 50) throw new ConfigError('pageSize must be an integer in 1..50');
    await this.delay();
    const noise = this.config.noise;
    const first = (page - 1) * pageSize;
    const wantPages = Math.min(this.config.maxResults, first + pageSize + (noise.replaceProb > 0 ? noise.distractorDepth : 0));
    // Passages → distinct pages. Fetch a few more passages than pages wanted (top-k pruning is
    // cheaper with a small k) and fetch again, deeper, only when pages sharing passages leave too few.
    let k = wantPages + 5;
    let pages: PassageHit[];
    for (;;) {
      const hits = await this.backend.searchPassages(query, { k });
      const seen = new Set<string>();
      pages = [];
      for (const h of hits) {
        if (seen.has(h.url)) continue;
        seen.add(h.url);
        pages.push(h);
      }
      if (pages.length >= wantPages || hits.length < k || k >= 5000) break;
      k = Math.min(5000, k * 4);
    }
    const reachable = Math.min(pages.length, this.config.maxResults);
    const slice = pages.slice(first, Math.min(first + pageSize, reachable));
    const injected = new Set<number>();
    if (noise.replaceProb > 0) {
      const rng = new Rng(hashSeed(this.config.seed, `${query}\u0000${page}`));
      const pool = pages.slice(first + pageSize, first + pageSize + noise.distractorDepth);
      for (let i = 0; i < slice.length && pool.length; i++) {
        if (rng.next() < noise.replaceProb) {
          slice[i] = pool.splice(rng.int(0, pool.length - 1), 1)[0]!;
          injected.add(i);
        }
      }
    }
    const results: SerpResult[] = [];
    for (let i = 0; i < slice.length; i++) {
      const h = slice[i]!;
      const doc = await this.backend.getDocument({ url: h.url });
      const text = doc ? doc.text.slice(h.start, h.end) : '';
      const r: SerpResult = { rank: first + i + 1, title: h.title, url: h.url, docId: h.docId, snippet: makeSnippet({ text, query, tokenizer: this.tokenizer, maxChars: this.config.snippetChars }), score: h.score };
      if (injected.has(i)) r.injected = true;
      results.push(r);
    }
    return { query, page, pageSize, totalResults: reachable, results };
  }

  /** Fetches a page or throws EnvError('no page …') when it does not exist. */
  async document(ref: PageRef): Promise<SearchDocument> {
    const doc = await this.backend.getDocument(ref);
    if (!doc) throw new EnvError(`no page with ${'url' in ref ? `url ${ref.url}` : `id ${ref.id}`}`);
    return doc;
  }

  /** The page's layout (cached per URL). */
  layout(doc: SearchDocument): PageLayout {
    let l = this.layouts.get(doc.url);
    if (!l) {
      l = layoutPage(doc.text, doc.links, this.config.lineWidth);
      if (this.layouts.size > 1000) this.layouts.delete(this.layouts.keys().next().value as string);
      this.layouts.set(doc.url, l);
    }
    return l;
  }

  /** A window of numbered lines starting at `line` (1-based, clamped into the page). */
  async open(options: PageRef & { line?: number; lines?: number }): Promise<PageView> {
    const line = options.line ?? 1;
    const count = options.lines ?? this.config.viewLines;
    if (!Number.isInteger(line) || line < 1) throw new ConfigError('line must be an integer ≥ 1');
    if (!Number.isInteger(count) || count < 1 || count > 500) throw new ConfigError('lines must be an integer in 1..500');
    await this.delay();
    const doc = await this.document(options);
    const layout = this.layout(doc);
    const total = layout.lines.length;
    const start = Math.min(line, Math.max(1, total));
    const end = Math.min(total, start + count - 1);
    const shown = layout.lines.slice(start - 1, end);
    const ids = new Set<number>();
    for (const l of shown) for (const m of l.matchAll(/【(\d+)†/g)) ids.add(Number(m[1]));
    return {
      url: doc.url,
      docId: doc.id,
      title: doc.title,
      site: doc.site,
      startLine: total ? start : 0,
      endLine: end,
      totalLines: total,
      lines: shown,
      links: [...ids].sort((a, b) => a - b).map((id) => ({ id, text: layout.links[id]!.text, url: layout.links[id]!.url })),
    };
  }

  /** Case-insensitive literal matches of `pattern` in the page's lines, with line numbers. */
  async find(options: PageRef & { pattern: string }): Promise<FindResult> {
    const pattern = options.pattern.trim();
    if (!pattern) throw new ConfigError('empty find pattern');
    if (pattern.length > WEB_LIMITS.maxPatternChars) throw new ConfigError(`pattern too long (max ${WEB_LIMITS.maxPatternChars} chars)`);
    const doc = await this.document(options);
    const lines = this.layout(doc).lines;
    const needle = pattern.toLowerCase();
    const matches: { line: number; text: string }[] = [];
    let total = 0;
    for (let i = 0; i < lines.length; i++) {
      // Join with the next line so a phrase broken by wrapping is still found (reported on its first line).
      const here = lines[i]!.toLowerCase();
      const joined = i + 1 < lines.length ? here + ' ' + lines[i + 1]!.toLowerCase() : here;
      const at = joined.indexOf(needle);
      if (at < 0 || at >= here.length) continue;
      total++;
      if (matches.length < this.config.maxFindMatches) matches.push({ line: i + 1, text: lines[i]! });
    }
    return { url: doc.url, title: doc.title, pattern, totalMatches: total, matches };
  }

  private async delay(): Promise<void> {
    const ms = this.config.noise.latencyMs;
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  }
}

/** A 32-bit seed from a number and a string (FNV-1a), for per-query noise streams. */
export function hashSeed(seed: number, key: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
