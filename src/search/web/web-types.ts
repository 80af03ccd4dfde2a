/** One result on a results page (the JSON form). */
export interface SerpResult {
  /** 1-based rank over all pages. */
  rank: number;
  title: string;
  url: string;
  docId: string;
  snippet: string;
  score: number;
  /** True when noise replaced the real result here (never shown to the model). */
  injected?: boolean;
}

/** A search results page (the JSON form). */
export interface SerpPage {
  query: string;
  page: number;
  pageSize: number;
  /** Distinct pages among the candidates retrieved: a lower bound on all matches, > the last rank when more pages follow. */
  totalResults: number;
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
