import { z } from 'zod';
import { defineTool, type Tool } from '../../envs/tool.js';
import { WEB_LIMITS } from '../web/search-web.js';
import { browserFor, recordAnswer, syncEpisode, type SearchState } from './search-session.js';

/** Runs a browser action, counting failures in the episode record, and syncing what was visited. */
async function act(state: SearchState, fn: () => Promise<string>): Promise<string> {
  try {
    return await fn();
  } catch (error) {
    state.search.errors++;
    throw error;
  } finally {
    syncEpisode(state);
  }
}

/**
 * The four tools of the emulated web for `ToolEnv`: `search`, `open`, `find` and `answer`. They
 * act on the rollout's own `Browser` (see `startEpisode`), so parallel rollouts never share state.
 * With `cite`, `answer` also takes `【id】`: the text of that result or link (see `recordAnswer`).
 */
export function searchTools(options: { cite?: boolean } = {}): Tool<SearchState>[] {
  const search = defineTool<z.ZodObject<{ query: z.ZodString; page: z.ZodOptional<z.ZodNumber>; topn: z.ZodOptional<z.ZodNumber> }>, SearchState>({
    name: 'search',
    description:
      'Search the web. Returns a results page: numbered results 【id†title】 with URL and snippet. Use page for more results. ' +
      'Operators: site:host, "exact phrase", -word.',
    parameters: z.object({
      query: z.string().min(1).max(WEB_LIMITS.maxQueryChars).describe('search query'),
      page: z.number().int().min(1).max(WEB_LIMITS.maxPage).optional().describe('results page, 1-based (default 1)'),
      topn: z.number().int().min(1).max(WEB_LIMITS.maxPageSize).optional().describe(`results per page (1..${WEB_LIMITS.maxPageSize})`),
    }),
    execute: ({ query, page, topn }, { state }) => act(state, async () => (await browserFor(state).search({ query, page: page ?? 1, ...(topn !== undefined ? { pageSize: topn } : {}) })).text),
  });
  const open = defineTool<
    z.ZodObject<{ id: z.ZodOptional<z.ZodNumber>; cursor: z.ZodOptional<z.ZodNumber>; url: z.ZodOptional<z.ZodString>; line: z.ZodOptional<z.ZodNumber>; num_lines: z.ZodOptional<z.ZodNumber> }>,
    SearchState
  >({
    name: 'open',
    description:
      'Open a page. id: a result or link id 【id†…】 from the view at cursor (default: the latest view). url: open a URL directly. ' +
      'line: first line to show (scroll). With only cursor/line, scrolls an opened page.',
    parameters: z.object({
      id: z.number().int().min(0).optional().describe('link or result id'),
      cursor: z.number().int().min(0).optional().describe('which earlier view the id refers to (default: latest)'),
      url: z.string().max(2048).optional().describe('a URL to open directly'),
      line: z.number().int().min(1).optional().describe('first line to show (default 1)'),
      num_lines: z.number().int().min(1).max(WEB_LIMITS.maxViewLines).optional().describe(`how many lines to show (1..${WEB_LIMITS.maxViewLines})`),
    }),
    execute: ({ num_lines, ...args }, { state }) => act(state, async () => (await browserFor(state).open({ ...args, ...(num_lines !== undefined ? { lines: num_lines } : {}) })).text),
  });
  const find = defineTool<z.ZodObject<{ pattern: z.ZodString; cursor: z.ZodOptional<z.ZodNumber> }>, SearchState>({
    name: 'find',
    description: 'Find text in an opened page (default: the latest one). Returns matching lines with their numbers.',
    parameters: z.object({
      pattern: z.string().min(1).max(WEB_LIMITS.maxPatternChars).describe('text to look for (case-insensitive)'),
      cursor: z.number().int().min(0).optional().describe('view of the page to search (default: latest opened page)'),
    }),
    execute: (args, { state }) => act(state, async () => (await browserFor(state).find(args)).text),
  });
  const answer = defineTool<z.ZodObject<{ answer: z.ZodString }>, SearchState>({
    name: 'answer',
    description: options.cite
      ? 'Give the final answer (a short phrase, or 【id】 to answer with the text of result or link id). Ends the episode.'
      : 'Give the final answer (a short phrase). Ends the episode.',
    parameters: z.object({ answer: z.string().max(500).describe('the final answer, as short as possible') }),
    execute: ({ answer: a }, { state }) => {
      recordAnswer(state, a, options.cite ?? false);
      return 'Answer recorded.';
    },
  });
  return [search, open, find, answer] as Tool<SearchState>[];
}
