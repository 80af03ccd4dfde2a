import { readJsonlFile, toJsonl, writeFileAtomic } from '../core/json-files.js';
import { RolloutResult } from '../core/rollout-result.js';

export { dropTornTail, JsonlAppender } from '../core/json-files.js';

/** What was found in an existing results file. */
export interface ResultsFileContents {
  results: RolloutResult[];
  /** Lines skipped as corrupt or torn (the first 20; see the JSONL policy in `core/json-files.ts`). */
  badLines: { line: number; error: string }[];
  /** True when the file ended in a partial line that did not parse. */
  tornTail: boolean;
}

/**
 * Reads a rollout JSONL file written by `runRollouts`, validating each line and skipping torn and
 * corrupt ones. A missing file reads as empty. Later lines for the same (exampleId, sample)
 * replace earlier ones.
 */
export async function readResultsFile(path: string): Promise<ResultsFileContents> {
  const read = await readJsonlFile({ path, schema: RolloutResult });
  if (!read) return { results: [], badLines: [], tornTail: false };
  const byKey = new Map<string, RolloutResult>();
  for (const r of read.items) byKey.set(resultKey(r.exampleId, r.sample), r);
  return { results: [...byKey.values()], badLines: read.bad.map(({ line, error }) => ({ line, error })), tornTail: read.torn };
}

/** The identity of one rollout in a run. */
export function resultKey(exampleId: string | number, sample: number): string {
  return `${typeof exampleId}:${exampleId}#${sample}`;
}

/** Replaces a results file with these results, one line each, atomically (nothing is lost if the write fails). */
export async function rewriteResultsFile(path: string, results: readonly RolloutResult[]): Promise<void> {
  await writeFileAtomic(path, toJsonl(results));
}
