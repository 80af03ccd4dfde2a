import type { SearchDocument } from './corpus/document.js';

/** One retrieved passage: where it sits in its page, and its BM25 score. */
export interface PassageHit {
  /** Backend-specific passage id (a number for the local index, a string for OpenSearch). */
  passage: number | string;
  docId: string;
  url: string;
  title: string;
  score: number;
  /** UTF-16 span of the passage inside the page text. */
  start: number;
  end: number;
}

/** A way to name a page: by URL or by document id. */
export type DocRef = { url: string } | { id: string };

/** Sizes a backend reports (health endpoints, benchmarks). */
export interface BackendInfo {
  name: string;
  documents: number;
  passages: number;
  k1: number;
  b: number;
}

/**
 * What the emulated web needs from a retrieval system. The local BM25 index implements it; an
 * OpenSearch/Elasticsearch backend can implement the same three methods (see src/search/README.md),
 * so the web, server, tools and SearchEnv work unchanged over a cluster-sized corpus.
 */
export interface SearchBackend {
  readonly info: BackendInfo;
  /** Top-k passages for a free-text query, best first. */
  searchPassages(query: string, options: { k: number }): Promise<PassageHit[]>;
  /**
   * Optional: about how many pages match a query (for "about N results"). Must depend on the query
   * alone. Without it, counts are the pages retrieved.
   */
  estimateMatches?(query: string): number;
  /** Optional: the site served at `host` (lowercase) and its page count, for site root pages. */
  siteOf?(host: string): { name: string; documents: number } | undefined;
  /** A whole page, or undefined when no page has that URL/id. */
  getDocument(ref: DocRef): Promise<SearchDocument | undefined>;
}
