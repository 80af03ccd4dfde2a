import { z } from 'zod';
import { formatZodError } from '../core/parse.js';
import { RolloutResult } from '../core/rollout-result.js';
import { Turn } from '../core/trajectory.js';

/**
 * A rollout line as the run store reads it: every field of `RolloutResult` is validated except
 * `turns` (the token-level record: each turn's full prompt, ids and logprobs — most of a line's
 * bytes), which is kept as raw JSON and validated only when it is served. Listing, sorting and
 * pass@k never need it; skipping its validation halves the cost of opening a large results file.
 */
export const StoredRollout = RolloutResult.extend({ turns: z.array(z.unknown()).default([]) });
export type StoredRollout = z.infer<typeof StoredRollout>;

/** A rollout as the dashboard shows it: without its turns, or with validated turns on request. */
export type RolloutView = Omit<RolloutResult, 'turns'> & { turns?: Turn[] };

/** The fields listing, search and eval summaries read. */
export type RolloutFields = Omit<RolloutResult, 'turns'>;

const Turns = z.array(Turn);

/**
 * Drops `turns`, or validates and keeps them when `withTurns`; turns that fail validation are
 * dropped with a warning, the rest of the rollout is still shown.
 */
export function rolloutView(options: { rollout: StoredRollout; withTurns?: boolean }): { view: RolloutView; warning?: string } {
  const { turns, ...rest } = options.rollout;
  if (!options.withTurns) return { view: rest };
  const parsed = Turns.safeParse(turns);
  if (parsed.success) return { view: { ...rest, turns: parsed.data } };
  return { view: rest, warning: `rollout ${String(rest.exampleId)}/${rest.sample}: turns skipped: ${formatZodError(parsed.error).slice(0, 200)}` };
}
