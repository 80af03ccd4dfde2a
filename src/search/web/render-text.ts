import type { FindResult, PageView, SerpPage } from './web-types.js';

/**
 * What the model sees for a results page. `cursor` is the view's number in the browsing session.
 * `compact` drops the header, URLs, highlighting and paging footer: one `【i†title】 snippet` line per result.
 */
export function renderSerp(serp: SerpPage, cursor?: number, format: 'full' | 'compact' = 'full'): string {
  if (format === 'compact') return serp.results.length ? serp.results.map((r, i) => `【${i}†${r.title}】 ${r.snippet.replace(/\*\*/g, '')}`).join('\n') : 'No results.';
  const head = `Search results for "${serp.query}" (page ${serp.page}${cursor !== undefined ? `, cursor ${cursor}` : ''}; about ${serp.totalResults.toLocaleString('en-US')} results)`;
  if (serp.results.length === 0) return `${head}\nNo results.`;
  const first = serp.results[0]!.rank;
  const last = serp.results.at(-1)!.rank;
  const body = serp.results.map((r, i) => `【${i}†${r.title}】 ${r.url}\n${r.snippet}`).join('\n\n');
  const more = serp.hasMore ? `\n\n(results ${first}–${last}; more on page ${serp.page + 1})` : `\n\n(results ${first}–${last}; no more results)`;
  return `${head}\n\n${body}${more}`;
}

/**
 * What the model sees for a page window: title, URL, "viewing lines a–b of N", numbered lines.
 * `compact` keeps the title and the shown lines only.
 */
export function renderPage(view: PageView, cursor?: number, format: 'full' | 'compact' = 'full'): string {
  if (format === 'compact') return [view.title, ...view.lines].join('\n');
  const width = String(view.endLine).length;
  const lines = view.lines.map((l, i) => `L${String(view.startLine + i).padStart(width, ' ')}: ${l}`);
  const head = `${view.title}\n${view.url}${cursor !== undefined ? ` (cursor ${cursor})` : ''}\n[viewing lines ${view.startLine}–${view.endLine} of ${view.totalLines}]`;
  const tail = view.endLine < view.totalLines ? `\n[more below: open with line=${view.endLine + 1}]` : '';
  return `${head}\n${lines.join('\n')}${tail}`;
}

/** What the model sees for find-in-page. */
export function renderFind(find: FindResult): string {
  if (find.totalMatches === 0) return `No matches for "${find.pattern}" in ${find.title}.`;
  const shown = find.matches.map((m) => `L${m.line}: ${m.text}`).join('\n');
  const more = find.totalMatches > find.matches.length ? `\n(${find.totalMatches - find.matches.length} more matches not shown)` : '';
  return `${find.totalMatches} match${find.totalMatches > 1 ? 'es' : ''} for "${find.pattern}" in ${find.title}:\n${shown}${more}`;
}
