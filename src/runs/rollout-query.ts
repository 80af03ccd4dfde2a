// Pure functions (no Node APIs): also bundled into the dashboard page for static reports.
import type { RolloutFields } from './stored-rollout.js';

/** Orders a rollout listing: file order, lowest reward first, or highest reward first. */
export const ROLLOUT_SORTS = ['index', 'reward_asc', 'reward_desc'] as const;
export type RolloutSort = (typeof ROLLOUT_SORTS)[number];

/** A rollout with its position in the file it came from. */
export interface IndexedRollout<R extends RolloutFields = RolloutFields> {
  index: number;
  rollout: R;
}

/** A page of rollouts and the number that matched the filters before paging. */
export interface RolloutPage<R extends RolloutFields = RolloutFields> {
  total: number;
  offset: number;
  limit: number;
  items: IndexedRollout<R>[];
}

/** True when the rollout itself failed, ended in error, or one of its reward functions threw. */
export function rolloutHasError(rollout: RolloutFields): boolean {
  return (
    rollout.error !== undefined ||
    rollout.stopReason === 'error' ||
    (rollout.scoringErrors !== undefined && Object.keys(rollout.scoringErrors).length > 0)
  );
}

/** Lower-cased text a search matches against: ids, task, messages, tool calls, errors. */
export function rolloutSearchText(rollout: RolloutFields): string {
  const parts: string[] = [String(rollout.exampleId), rollout.task ?? ''];
  for (const m of [...rollout.prompt, ...rollout.completion]) {
    if (m.content) parts.push(m.content);
    if (m.role === 'assistant' && m.tool_calls) {
      for (const call of m.tool_calls) parts.push(call.function.name, call.function.arguments);
    }
  }
  if (rollout.error) parts.push(rollout.error.message);
  if (rollout.scoringErrors) parts.push(...Object.values(rollout.scoringErrors));
  return parts.join('\n').toLowerCase();
}

/**
 * Filters (errors only, text search), sorts and pages rollouts. `searchText[i]` may be passed
 * precomputed (it is cached with the parsed file); otherwise it is computed on demand.
 */
export function queryRollouts<R extends RolloutFields>(options: {
  rollouts: readonly R[];
  searchText?: readonly string[];
  offset?: number;
  limit?: number;
  sort?: RolloutSort;
  errorsOnly?: boolean;
  search?: string;
}): RolloutPage<R> {
  const { rollouts, offset = 0, limit = 50, sort = 'index', errorsOnly = false } = options;
  const needle = (options.search ?? '').trim().toLowerCase();
  let rows: IndexedRollout<R>[] = [];
  rollouts.forEach((rollout, index) => {
    if (errorsOnly && !rolloutHasError(rollout)) return;
    if (needle) {
      const text = options.searchText?.[index] ?? rolloutSearchText(rollout);
      if (!text.includes(needle)) return;
    }
    rows.push({ index, rollout });
  });
  if (sort !== 'index') {
    const sign = sort === 'reward_asc' ? 1 : -1;
    rows = rows.sort((a, b) => sign * (a.rollout.reward - b.rollout.reward) || a.index - b.index);
  }
  return { total: rows.length, offset, limit, items: rows.slice(offset, offset + limit) };
}
