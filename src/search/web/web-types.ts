/** One result on a results page (the JSON form). */
export interface SerpResult {
  /** 1-based rank over all pages. */
  rank: number;
  title: string;
  url: string;
  docId: string;
  snippet: string;
  score: number;
}

/** A search results page (the JSON form). */
export interface SerpPage {
  query: string;
  page: number;
  pageSize: number;
  /**
   * "About N results": exact when the query's matches were all retrieved, else the backend's
   * estimate for the query (it does not change from page to page). At least the last rank shown.
   */
  totalResults: number;
  /** Whether a next page has results (within the deepest reachable rank). */
  hasMore: boolean;
  results: SerpResult[];
}

/** A window of a page's numbered lines (the JSON form). */
export interface PageView {
  url: string;
  docId: string;
  title: string;
  site: string;
  /** 1-based first and last line shown (inclusive); 0..0 for an empty page. */
  startLine: number;
  endLine: number;
  totalLines: number;
  lines: string[];
  /** The URL asked for, when it was not the page's own (a redirect: http, a trailing slash, a fragment…). */
  redirectedFrom?: string;
  /** Links whose markers `【id†text】` appear in the shown lines. */
  links: { id: number; text: string; url: string }[];
}

/** Matches of a pattern in a page (the JSON form). */
export interface FindResult {
  url: string;
  title: string;
  pattern: string;
  totalMatches: number;
  matches: { line: number; text: string }[];
}
