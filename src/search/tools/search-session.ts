import { EnvError } from '../../core/errors.js';
import { Browser } from '../web/browser.js';
import type { NoiseEvent, SearchWeb } from '../web/search-web.js';

/**
 * Plain-data record of one search episode, kept in rollout state (so it can be logged and read by
 * reward functions). The live `Browser` is kept beside it, keyed by the state object, never in it.
 */
export interface SearchEpisode {
  queries: string[];
  visitedUrls: string[];
  /** The final answer, once given (with citations on, the cited link's text). */
  answer?: string;
  /** The link id the answer cited (`【3】`), when it was a citation. */
  citedLink?: number;
  /** Actions that failed (bad ids, unknown pages, empty queries…). */
  errors: number;
  /** The truth about noisy results the agent was shown (distractors, dead links), for analysis only. */
  noise: (NoiseEvent & { query: string; page: number })[];
}

/** State keys a search environment maintains. */
export interface SearchState extends Record<string, unknown> {
  search: SearchEpisode;
}

const browsers = new WeakMap<object, Browser>();

/** Starts an episode: a fresh Browser tied to `state`, and an empty record in `state.search`. */
export function startEpisode<S extends Record<string, unknown>>(state: S, web: SearchWeb, options: { maxViews?: number } = {}): S & SearchState {
  const s = state as S & SearchState;
  s.search = { queries: [], visitedUrls: [], errors: 0, noise: [] };
  browsers.set(s, new Browser(web, options));
  return s;
}

/** The episode's browser (throws if `startEpisode` was not called for this state). */
export function browserFor(state: object): Browser {
  const b = browsers.get(state);
  if (!b) throw new Error('search episode not started for this rollout state');
  return b;
}

/** Copies the browser's queries and visited pages into the plain record. */
export function syncEpisode(state: SearchState): void {
  const b = browsers.get(state);
  if (!b) return;
  state.search.queries = [...b.queries];
  state.search.visitedUrls = [...b.visitedUrls];
  state.search.noise = [...b.noise];
}

const CITATION = /^【(\d+)(?:†[^】]*)?】$/;

/**
 * Records the episode's final answer. With `cite`, an answer written as `【3】` (or `【3†…】`, as
 * links are shown) is the text of result or link 3 in the latest view: the agent points at a name
 * on screen, as a person clicks, instead of spelling it. A citation of a link that is not there is
 * an action error and stays the literal text (which matches no gold answer).
 */
export function recordAnswer(state: SearchState, answer: string, cite: boolean): void {
  const m = cite ? CITATION.exec(answer.trim()) : null;
  state.search.answer = answer;
  if (!m) return;
  try {
    state.search.answer = browserFor(state).cite(Number(m[1]));
    state.search.citedLink = Number(m[1]);
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    state.search.errors++;
  }
}
