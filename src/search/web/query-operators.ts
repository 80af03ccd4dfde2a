import { ConfigError } from '../../core/errors.js';
import { hostOf } from './page-lines.js';

/**
 * A query with web-search operators taken apart: `site:host` (restrict to a host and its
 * subdomains, or a site name), `"a phrase"` (the page must contain it, case- and
 * whitespace-insensitively), `-term` (no page containing the word). `text` is what BM25 ranks:
 * the free words plus the phrases' words.
 */
export interface ParsedQuery {
  text: string;
  sites: string[];
  phrases: string[];
  exclude: string[];
}

/** Splits a query into BM25 text and operators. Throws ConfigError when only operators remain. */
export function parseQuery(query: string): ParsedQuery {
  const sites: string[] = [];
  const phrases: string[] = [];
  const exclude: string[] = [];
  const words: string[] = [];
  const rest = query.replace(/"([^"]*)"/g, (_, p: string) => {
    const phrase = p.trim().replace(/\s+/g, ' ');
    if (phrase) {
      phrases.push(phrase.toLowerCase());
      words.push(phrase);
    }
    return ' ';
  });
  for (const tok of rest.split(/\s+/)) {
    if (!tok) continue;
    const site = /^site:(\S+)$/i.exec(tok);
    if (site) {
      sites.push(site[1]!.toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, ''));
      continue;
    }
    if (tok.length > 1 && tok.startsWith('-')) {
      exclude.push(tok.slice(1).toLowerCase());
      continue;
    }
    words.push(tok.replace(/"/g, ''));
  }
  const text = words.join(' ').trim();
  if (!text) throw new ConfigError(`query "${query}" has only operators; add words to search for`);
  return { text, sites, phrases, exclude };
}

/** True when the query uses any operator. */
export function hasOperators(q: ParsedQuery): boolean {
  return q.sites.length > 0 || q.phrases.length > 0 || q.exclude.length > 0;
}

/** Whether `url` is on one of `sites` (a host, one of its subdomains, or the host's first label). */
export function onSite(url: string, sites: readonly string[]): boolean {
  if (sites.length === 0) return true;
  const host = hostOf(url);
  return sites.some((s) => host === s || host.endsWith(`.${s}`) || host.split('.')[0] === s);
}
