import type { FindResult, PageView, SerpPage } from '../web/web-types.js';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function layout(title: string, body: string, query = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:1rem auto;padding:0 1rem;line-height:1.4}
.r{margin:1rem 0}.u{color:#186a3b;font-size:.85rem}pre{white-space:pre-wrap}form{margin:.5rem 0 1rem}
.ln{color:#888;user-select:none}</style></head><body>
<form action="/search"><a href="/">keiko search</a> <input name="q" size="50" value="${escapeHtml(query)}" autofocus> <button>Search</button></form>
${body}</body></html>`;
}

/** The home page: a search box and corpus sizes. */
export function homeHtml(info: { documents: number; passages: number }): string {
  return layout('keiko search', `<p>An offline web over ${info.documents.toLocaleString('en-US')} pages (${info.passages.toLocaleString('en-US')} passages).</p>`);
}

/** Where a page link points: `/page?url=…` on the API server, or the page's own (http) address in proxy mode. */
function pageHref(url: string, proxied: boolean): string {
  return proxied ? escapeHtml(url.replace(/^https:/, 'http:')) : `/page?url=${encodeURIComponent(url)}`;
}

/** A results page, with result links to /page (or, proxied, to the pages' own addresses) and a next-page link. */
export function serpHtml(serp: SerpPage, o: { proxied?: boolean } = {}): string {
  const items = serp.results
    .map((r) => {
      const snippet = escapeHtml(r.snippet).replace(/\*\*(.+?)\*\*/g, '<b>$1</b>');
      return `<div class="r"><a href="${pageHref(r.url, o.proxied ?? false)}">${escapeHtml(r.title)}</a><div class="u">${escapeHtml(r.url)}</div><div>${snippet}</div></div>`;
    })
    .join('\n');
  const next = serp.hasMore ? `<a href="/search?q=${encodeURIComponent(serp.query)}&page=${serp.page + 1}">Next page</a>` : '';
  const prev = serp.page > 1 ? `<a href="/search?q=${encodeURIComponent(serp.query)}&page=${serp.page - 1}">Previous page</a> ` : '';
  return layout(`${serp.query} - keiko search`, `<p class="u">About ${serp.totalResults.toLocaleString('en-US')} results</p>${items || '<p>No results.</p>'}<p>${prev}${next}</p>`, serp.query);
}

/** A page view: numbered lines with link markers turned into hyperlinks. */
export function pageHtml(view: PageView, find?: FindResult, o: { proxied?: boolean } = {}): string {
  const byId = new Map(view.links.map((l) => [l.id, l]));
  const lines = view.lines
    .map((l, i) => {
      const html = escapeHtml(l).replace(/【(\d+)†([^】†]*)(?:†[^】]*)?】/g, (m, id: string, text: string) => {
        const link = byId.get(Number(id));
        return link ? `<a href="${pageHref(link.url, o.proxied ?? false)}">${text}</a>` : m;
      });
      return `<span class="ln">${String(view.startLine + i).padStart(4, ' ')}</span> ${html}`;
    })
    .join('\n');
  const nav = !o.proxied && view.endLine < view.totalLines ? `<a href="/page?url=${encodeURIComponent(view.url)}&line=${view.endLine + 1}">More (lines ${view.endLine + 1}–)</a>` : '';
  const findForm = o.proxied ? '' : `<form action="/page"><input type="hidden" name="url" value="${escapeHtml(view.url)}"><input name="find" value="${escapeHtml(find?.pattern ?? '')}"> <button>Find in page</button></form>`;
  const found = find ? `<p>${find.totalMatches} matches: ${find.matches.map((m) => `<a href="/page?url=${encodeURIComponent(view.url)}&line=${m.line}">line ${m.line}</a>`).join(', ')}</p>` : '';
  return layout(
    view.title,
    `<h1>${escapeHtml(view.title)}</h1><div class="u">${escapeHtml(view.url)} · lines ${view.startLine}–${view.endLine} of ${view.totalLines}</div>${findForm}${found}<pre>${lines}</pre>${nav}`,
  );
}

/** The 404 page of an emulated URL. */
export function notFoundHtml(url: string): string {
  return layout('404 Not Found', `<h1>Not Found</h1><p>The requested URL ${escapeHtml(url)} was not found on this server.</p>`);
}

/** An error page. */
export function errorHtml(status: number, message: string): string {
  return layout(`Error ${status}`, `<h1>Error ${status}</h1><p>${escapeHtml(message)}</p>`);
}
