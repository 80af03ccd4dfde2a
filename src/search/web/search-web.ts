import { z } from 'zod';
import { ConfigError, EnvError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { PassageHit, SearchBackend } from '../backend.js';
import type { SearchDocument } from '../corpus/document.js';
import { Tokenizer, type TokenizerConfig } from '../index/tokenizer.js';
import { layoutPage, plainText, type PageLayout } from './page-lines.js';
import { makeSnippet } from './snippet.js';
import { hasOperators, onSite, parseQuery, type ParsedQuery } from './query-operators.js';
import type { FindResult, PageView, SerpPage, SerpResult } from './web-types.js';

/** Curriculum knobs: how hard and how realistic the emulated web is. */
export const WebNoise = z.object({
  /** Probability that each result on a page is replaced by a plausible but less relevant one. */
  replaceProb: z.number().min(0).max(1).default(0),
  /** Distractors are drawn from ranks (pageEnd, pageEnd + distractorDepth] of the same query. */
  distractorDepth: z.number().int().min(1).max(500).default(40),
  /** Probability that a page is gone: results still list it (a stale index), opening it is a 404. Per (seed, URL). */
  deadLinkProb: z.number().min(0).max(1).default(0),
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
  /** Which link markers show the target's host (`【3†Lima†geo.local】`): links to other hosts, all, or none. */
  linkDomains: z.enum(['external', 'always', 'never']).default('external'),
  /** Most matches `find` returns. */
  maxFindMatches: z.number().int().min(1).max(500).default(20),
  /** Deepest result rank reachable by paging. */
  maxResults: z.number().int().min(1).max(1000).default(200),
  noise: WebNoise.default(WebNoise.parse({})),
});
export type WebConfig = z.infer<typeof WebConfig>;
export type WebConfigInput = z.input<typeof WebConfig>;

/** Query and pattern limits shared by the server and the tools. */
export const WEB_LIMITS = { maxQueryChars: 512, maxPatternChars: 200, maxPage: 100, maxPageSize: 50, maxViewLines: 500 } as const;

/** What a search asks for: the query (operators allowed), a 1-based page, and results per page. */
export interface SearchRequestOptions {
  query: string;
  page?: number;
  pageSize?: number;
}

/** A noisy result, as recorded for analysis (never shown to the agent). */
export interface NoiseEvent {
  kind: 'distractor' | 'dead';
  /** 1-based rank where it was shown. */
  rank: number;
  url: string;
  /** For a distractor: the URL of the real result it replaced. */
  replaced?: string;
}

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
  private noiseNow: WebNoise;
  private readonly plains = new Map<string, { text: string; lineOf: Int32Array }>();

  constructor(
    readonly backend: SearchBackend,
    config: WebConfigInput = {},
    tokenizer?: Partial<TokenizerConfig>,
  ) {
    const parsed = WebConfig.safeParse(config);
    if (!parsed.success) throw new ConfigError(`invalid web config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    this.config = parsed.data;
    this.tokenizer = new Tokenizer(tokenizer ?? {});
    this.noiseNow = this.config.noise;
  }

  /** A results page (1-based `page`). Throws ConfigError for empty/too-long queries or bad pages. */
  async search(options: SearchRequestOptions): Promise<SerpPage> {
    return (await this.searchWithTruth(options)).serp;
  }

  /**
   * A results page and the truth about its noise: which ranks hold a distractor and which results
   * lead to a dead page. The page itself carries no trace of it (scores stay in rank order), so an
   * agent cannot tell noise apart; `Browser` keeps the truth for the rollout's record.
   */
  async searchWithTruth(options: SearchRequestOptions): Promise<{ serp: SerpPage; noise: NoiseEvent[] }> {
    const query = options.query.trim();
    const page = options.page ?? 1;
    const pageSize = options.pageSize ?? this.config.pageSize;
    if (!query) throw new ConfigError('empty query');
    if (query.length > WEB_LIMITS.maxQueryChars) throw new ConfigError(`query too long (${query.length} chars; max ${WEB_LIMITS.maxQueryChars})`);
    if (!Number.isInteger(page) || page < 1 || page > WEB_LIMITS.maxPage) throw new ConfigError(`page must be an integer in 1..${WEB_LIMITS.maxPage}`);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > WEB_LIMITS.maxPageSize) throw new ConfigError(`pageSize must be an integer in 1..${WEB_LIMITS.maxPageSize}`);
    const parsed = parseQuery(query);
    const ops = hasOperators(parsed);
    await this.delay();
    const noise = this.noise;
    const first = (page - 1) * pageSize;
    // With operators, candidates are always taken to the deepest reachable rank, so counts and
    // pages do not depend on which page was asked for.
    const wantPages = ops ? this.config.maxResults : Math.min(this.config.maxResults, first + pageSize + (noise.replaceProb > 0 ? noise.distractorDepth : 0));
    const verdicts = new Map<string, boolean>();
    const keep = async (h: PassageHit): Promise<boolean> => {
      if (!onSite(h.url, parsed.sites)) return false;
      if (parsed.phrases.length === 0 && parsed.exclude.length === 0) return true;
      let v = verdicts.get(h.url);
      if (v === undefined) {
        const doc = await this.backend.getDocument({ url: h.url });
        v = doc !== undefined && this.passesTextOperators(doc, parsed);
        verdicts.set(h.url, v);
      }
      return v;
    };
    // Passages → distinct pages (near-duplicates collapsed). Fetch a few more passages than pages
    // wanted (top-k pruning is cheaper with a small k) and fetch again, deeper, only when pages
    // sharing passages, duplicates or filters leave too few.
    let k = wantPages + 5;
    let pages: PassageHit[];
    let exhausted: boolean;
    for (;;) {
      const hits = await this.backend.searchPassages(parsed.text, { k });
      exhausted = hits.length < k;
      pages = await this.collapse(hits, keep);
      if (pages.length >= wantPages || exhausted || k >= 5000) break;
      k = Math.min(5000, k * 4);
    }
    const reachable = Math.min(pages.length, this.config.maxResults);
    const slice = pages.slice(first, Math.min(first + pageSize, reachable));
    const events: NoiseEvent[] = [];
    if (noise.replaceProb > 0) {
      const rng = new Rng(hashSeed(this.config.seed, `${query}\u0000${page}`));
      const pool = pages.slice(first + pageSize, first + pageSize + noise.distractorDepth);
      // A distractor takes the place (and the displayed score) of the result it replaces, so
      // scores stay in rank order and nothing marks it.
      for (let i = 0; i < slice.length && pool.length; i++) {
        if (rng.next() < noise.replaceProb) {
          const replaced = slice[i]!;
          const d = pool.splice(rng.int(0, pool.length - 1), 1)[0]!;
          slice[i] = { ...d, score: replaced.score };
          events.push({ kind: 'distractor', rank: first + i + 1, url: d.url, replaced: replaced.url });
        }
      }
    }
    const results: SerpResult[] = [];
    for (let i = 0; i < slice.length; i++) {
      const h = slice[i]!;
      if (this.isDead(h.url)) events.push({ kind: 'dead', rank: first + i + 1, url: h.url });
      const doc = await this.backend.getDocument({ url: h.url });
      const text = doc ? doc.text.slice(h.start, h.end) : '';
      results.push({ rank: first + i + 1, title: h.title, url: h.url, docId: h.docId, snippet: makeSnippet({ text, query: parsed.text, tokenizer: this.tokenizer, maxChars: this.config.snippetChars }), score: h.score });
    }
    // "About N results": exact when every matching passage was seen; otherwise the backend's
    // estimate (a function of the query alone, so it does not move as one pages).
    const estimate = exhausted || ops ? pages.length : Math.max(this.backend.estimateMatches?.(parsed.text) ?? 0, pages.length);
    const shownTo = first + results.length;
    return { serp: { query, page, pageSize, totalResults: Math.max(estimate, shownTo), hasMore: shownTo < reachable, results }, noise: events };
  }

  /** Distinct pages in rank order; a page whose title and best passage equal a higher one's is a near-duplicate and dropped. */
  private async collapse(hits: readonly PassageHit[], keep: (h: PassageHit) => Promise<boolean>): Promise<PassageHit[]> {
    const seen = new Set<string>();
    const byKey = new Map<string, PassageHit[]>();
    const out: PassageHit[] = [];
    for (const h of hits) {
      if (seen.has(h.url)) continue;
      seen.add(h.url);
      if (!(await keep(h))) continue;
      const key = `${h.score}\u0000${h.title.trim().toLowerCase()}`;
      const same = byKey.get(key);
      if (same) {
        const text = await this.passageText(h);
        let dup = false;
        for (const o of same) if ((await this.passageText(o)) === text) dup = true;
        if (dup) continue;
        same.push(h);
      } else byKey.set(key, [h]);
      out.push(h);
    }
    return out;
  }

  private async passageText(h: PassageHit): Promise<string> {
    const doc = await this.backend.getDocument({ url: h.url });
    return doc ? doc.text.slice(h.start, h.end).replace(/\s+/g, ' ').trim().toLowerCase() : '';
  }

  private passesTextOperators(doc: SearchDocument, q: ParsedQuery): boolean {
    const plain = `${doc.title} ${doc.text}`.replace(/\s+/g, ' ').toLowerCase();
    if (!q.phrases.every((p) => plain.includes(p))) return false;
    if (q.exclude.length === 0) return true;
    const words = new Set(this.tokenizer.tokenize(`${doc.title} ${doc.text}`));
    return !q.exclude.some((t) => this.tokenizer.tokenize(t).some((w) => words.has(w)) || plain.includes(t));
  }

  /** Current noise settings (see `setNoise`). */
  get noise(): WebNoise {
    return this.noiseNow;
  }

  /** Changes the noise settings (e.g. raised between training steps for a curriculum). */
  setNoise(noise: z.input<typeof WebNoise>): void {
    const r = WebNoise.safeParse(noise);
    if (!r.success) throw new ConfigError(`invalid noise: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    this.noiseNow = r.data;
  }

  /** Whether noise has taken `url` down (a dead link: results still list it, opening it is a 404). Deterministic per seed. */
  isDead(url: string): boolean {
    const p = this.noiseNow.deadLinkProb;
    return p > 0 && mix32(hashSeed(this.config.seed ^ 0x5bd1e995, url)) / 2 ** 32 < p;
  }

  /** Fetches a page (URLs resolved as a web server would, see `resolve`) or throws EnvError('no page … (404 not found)'). */
  async document(ref: PageRef): Promise<SearchDocument> {
    const found = 'url' in ref ? await this.resolve(ref.url) : await this.backend.getDocument(ref);
    const doc = found && 'doc' in found ? found.doc : found;
    if (!doc || this.isDead(doc.url)) throw new EnvError(`no page with ${'url' in ref ? `url ${ref.url}` : `id ${ref.id}`} (404 not found)`);
    return doc;
  }

  /**
   * Finds the page a URL names, as a web server with redirects would: the exact URL, else its
   * canonical form (scheme added or http → https, host lowercased, fragment dropped, trailing slash
   * toggled, percent-encoding normalised; `redirected` is then true: a 301), else a site's root
   * (`https://host/`), a generated page naming the site. Undefined when nothing matches (a 404).
   */
  async resolve(url: string): Promise<{ doc: SearchDocument; redirected: boolean } | undefined> {
    const exact = await this.backend.getDocument({ url });
    if (exact) return { doc: exact, redirected: false };
    for (const v of urlVariants(url)) {
      const doc = await this.backend.getDocument({ url: v });
      if (doc) return { doc, redirected: true };
    }
    const root = siteRoot(url, this.backend);
    if (root) return { doc: root, redirected: root.url !== url };
    return undefined;
  }

  /** The page's layout (cached per URL). */
  layout(doc: SearchDocument): PageLayout {
    let l = this.layouts.get(doc.url);
    if (!l) {
      l = layoutPage(doc.text, doc.links, { width: this.config.lineWidth, linkDomains: this.config.linkDomains, pageUrl: doc.url });
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
    if (!Number.isInteger(count) || count < 1 || count > WEB_LIMITS.maxViewLines) throw new ConfigError(`lines must be an integer in 1..${WEB_LIMITS.maxViewLines}`);
    await this.delay();
    const doc = await this.document(options);
    const redirectedFrom = 'url' in options && options.url !== doc.url ? options.url : undefined;
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
      ...(redirectedFrom !== undefined ? { redirectedFrom } : {}),
    };
  }

  /** Case-insensitive literal matches of `pattern` in the page's lines, with line numbers. */
  async find(options: PageRef & { pattern: string }): Promise<FindResult> {
    const pattern = options.pattern.trim();
    if (!pattern) throw new ConfigError('empty find pattern');
    if (pattern.length > WEB_LIMITS.maxPatternChars) throw new ConfigError(`pattern too long (max ${WEB_LIMITS.maxPatternChars} chars)`);
    const doc = await this.document(options);
    const lines = this.layout(doc).lines;
    // Match the text as read (markers reduced to their anchors, whitespace and line breaks collapsed),
    // then map each hit back to the line it starts on.
    const plain = this.plain(doc.url, lines);
    const needle = plainText([pattern]).text;
    const matches: { line: number; text: string }[] = [];
    let total = 0;
    let lastLine = -1;
    for (let at = plain.text.indexOf(needle); at >= 0; at = plain.text.indexOf(needle, at + 1)) {
      const line = plain.lineOf[at]!;
      if (line === lastLine) continue;
      lastLine = line;
      total++;
      if (matches.length < this.config.maxFindMatches) matches.push({ line: line + 1, text: lines[line]! });
    }
    return { url: doc.url, title: doc.title, pattern, totalMatches: total, matches };
  }

  private plain(url: string, lines: readonly string[]): { text: string; lineOf: Int32Array } {
    let p = this.plains.get(url);
    if (!p) {
      p = plainText(lines);
      if (this.plains.size > 200) this.plains.delete(this.plains.keys().next().value as string);
      this.plains.set(url, p);
    }
    return p;
  }

  private async delay(): Promise<void> {
    const ms = this.config.noise.latencyMs;
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  }
}

/** Canonical spellings of a URL to try, most likely first (see `SearchWeb.resolve`). */
export function urlVariants(raw: string): string[] {
  let u = raw.trim().replace(/#.*$/, '');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) u = `https://${u.replace(/^\/\//, '')}`;
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?$/i.exec(u);
  if (!m) return [];
  const host = m[2]!.toLowerCase().replace(/:(443|80)$/, '');
  const query = m[4] ?? '';
  const paths = new Set<string>();
  for (const p of [m[3]!, safeDecodeUri(m[3]!), encodeURI(safeDecodeUri(m[3]!))]) {
    paths.add(p);
    if (p.length > 1 && p.endsWith('/')) paths.add(p.replace(/\/+$/, ''));
    else if (p && !p.endsWith('/')) paths.add(`${p}/`);
  }
  const out: string[] = [];
  for (const p of paths) out.push(`https://${host}${p}${query}`, `http://${host}${p}${query}`);
  return [...new Set(out)].filter((v) => v !== raw);
}

function safeDecodeUri(s: string): string {
  try {
    return decodeURI(s);
  } catch {
    return s;
  }
}

/** The generated root page of a site whose pages the backend holds (`https://foldoc.local/`), or undefined. */
function siteRoot(url: string, backend: SearchBackend): SearchDocument | undefined {
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^/?#]+)\/?(?:[?#].*)?$/i.exec(url.trim());
  if (!m) return undefined;
  const host = m[1]!.toLowerCase().replace(/:(443|80)$/, '');
  const site = backend.siteOf?.(host);
  if (!site) return undefined;
  const n = site.documents.toLocaleString('en-US');
  return {
    id: `site-root:${host}`,
    url: `https://${host}/`,
    title: host,
    text: `${host} is the site "${site.name}" of this web: ${n} pages. Search it with the query operator site:${host} followed by your words.`,
    site: site.name,
    links: [],
  };
}

/** Murmur3's finaliser: spreads FNV's low-bit differences (URLs differing in their last character) over all bits. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A 32-bit seed from a number and a string (FNV-1a), for per-query noise streams. */
export function hashSeed(seed: number, key: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
