import { ConfigError, EnvError } from '../../core/errors.js';
import { renderFind, renderPage, renderSerp } from './render-text.js';
import type { NoiseEvent, SearchWeb } from './search-web.js';

/** Views a browsing session holds by default (results pages and page views together). */
export const DEFAULT_MAX_VIEWS = 100;
import type { FindResult, PageView, SerpPage } from './web-types.js';

/** A link of a view: where it goes, and its text (a result's title, or a link's anchor text). */
export interface ViewLink {
  url: string;
  text: string;
}

/** One entry of a browsing session's history; its `links` are what `open({ id })` and `cite(id)` resolve. */
export type BrowserView =
  | { kind: 'serp'; serp: SerpPage; links: ViewLink[] }
  | { kind: 'page'; view: PageView; links: ViewLink[] };

/** The result of a browsing action: its JSON form, the text the model sees, and the cursor. */
export interface BrowserResult<T> {
  cursor: number;
  data: T;
  text: string;
}

/**
 * A browsing session for one episode. Each results page or opened page becomes a numbered view
 * (cursor); links in a view have ids (results are links too), so `open({ id: 3 })` follows link 3 of
 * the latest view and `open({ cursor: 0, id: 2 })` follows one from an earlier view. Records every
 * page opened, for rubrics (`visitedUrls`).
 */
export class Browser {
  readonly history: BrowserView[] = [];
  readonly visitedUrls: string[] = [];
  readonly queries: string[] = [];
  /** The truth about noisy results this session was shown (for the rollout's record, never for the agent). */
  readonly noise: (NoiseEvent & { query: string; page: number })[] = [];
  /** Most views (results pages and page views together) a session may hold. */
  readonly maxViews: number;

  constructor(
    readonly web: SearchWeb,
    options: { maxViews?: number } | number = {},
  ) {
    const max = typeof options === 'number' ? options : (options.maxViews ?? DEFAULT_MAX_VIEWS);
    if (!Number.isInteger(max) || max < 1) throw new ConfigError(`maxViews must be an integer ≥ 1 (got ${max})`);
    this.maxViews = max;
  }

  private push(v: BrowserView): number {
    if (this.history.length >= this.maxViews) throw new EnvError(`browsing history is full (${this.maxViews} views; raise maxViews)`);
    this.history.push(v);
    return this.history.length - 1;
  }

  private viewAt(cursor: number | undefined): BrowserView {
    if (this.history.length === 0) throw new EnvError('nothing is open yet: search first');
    const c = cursor ?? this.history.length - 1;
    const v = this.history[c];
    if (!Number.isInteger(c) || !v) throw new EnvError(`no view with cursor ${c}; cursors are 0..${this.history.length - 1}`);
    return v;
  }

  /** Searches (`pageSize`: results per page, 1..50; default the web's). */
  async search(options: { query: string; page?: number; pageSize?: number }): Promise<BrowserResult<SerpPage>> {
    const { serp, noise } = await this.web.searchWithTruth(options);
    const cursor = this.push({ kind: 'serp', serp, links: serp.results.map((r) => ({ url: r.url, text: r.title })) });
    this.queries.push(serp.query);
    for (const n of noise) this.noise.push({ ...n, query: serp.query, page: serp.page });
    return { cursor, data: serp, text: renderSerp(serp, cursor, this.web.config.serpFormat) };
  }

  /**
   * Opens a page: by `url`; by link `id` in view `cursor` (default: the latest view); or, with only
   * `cursor` and/or `line`, scrolls the page at that view. `lines`: how many lines to show
   * (1..`WEB_LIMITS.maxViewLines`; default the web's `viewLines`).
   */
  async open(options: { url?: string; id?: number; cursor?: number; line?: number; lines?: number }): Promise<BrowserResult<PageView>> {
    let url = options.url;
    if (url === undefined) {
      const v = this.viewAt(options.cursor);
      if (options.id !== undefined) {
        url = this.link(v, options.id, options.cursor).url;
      } else if (v.kind === 'page') url = v.view.url;
      else throw new ConfigError('give a link id (or a url) to open from a results page');
    }
    const view = await this.web.open({ url, line: options.line ?? 1, ...(options.lines !== undefined ? { lines: options.lines } : {}) });
    // Link ids in a view are the page's own link ids, so store the full link list.
    const layout = this.web.layout(await this.web.document({ url }));
    const cursor = this.push({ kind: 'page', view, links: layout.links.map((l) => ({ url: l.url, text: l.text })) });
    this.visitedUrls.push(view.url);
    return { cursor, data: view, text: renderPage(view, cursor, this.web.config.pageFormat) };
  }

  /**
   * The text of link `id` in view `cursor` (default: the latest view): a result's title or a link's
   * anchor text. This is how an answer can point at what is on screen instead of spelling it.
   */
  cite(id: number, cursor?: number): string {
    return this.link(this.viewAt(cursor), id, cursor).text;
  }

  private link(v: BrowserView, id: number, cursor: number | undefined): ViewLink {
    const l = v.links[id];
    if (l === undefined) throw new EnvError(`view ${cursor ?? this.history.length - 1} has no link ${id} (ids 0..${v.links.length - 1})`);
    return l;
  }

  /** Finds a pattern in the page at `cursor` (default: the latest page view). */
  async find(options: { pattern: string; cursor?: number }): Promise<BrowserResult<FindResult>> {
    let c = options.cursor;
    if (c === undefined) {
      for (let i = this.history.length - 1; i >= 0; i--) {
        if (this.history[i]!.kind === 'page') {
          c = i;
          break;
        }
      }
      if (c === undefined) throw new EnvError('no page is open: open a result first');
    }
    const v = this.viewAt(c);
    if (v.kind !== 'page') throw new EnvError(`view ${c} is a results page; find works on opened pages`);
    const found = await this.web.find({ url: v.view.url, pattern: options.pattern });
    return { cursor: c, data: found, text: renderFind(found) };
  }
}
