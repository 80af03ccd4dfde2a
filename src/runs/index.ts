// Run folders: their layout, the writer (eval, sft and train runs) and the store that reads them.
export { RunIndex, type RunScan } from './run-index.js';
export { RunSummary } from './run-summary.js';
export { RunStore, RunDetail, RunNotFoundError, ROLLOUT_SOURCE_PATTERN, type ReadReport } from './run-store.js';
export { parseJsonl, JsonlCache, type JsonlRead } from './jsonl-file.js';
export { readJsonlFile, type JsonlBadLine } from '../core/json-files.js';
export { runLayout, TrainEvalSummary, EVAL_LABEL_PATTERN, rolloutSourceFile, stepSource } from './run-layout.js';
export { queryRollouts, rolloutHasError, rolloutSearchText, ROLLOUT_SORTS, type RolloutSort, type RolloutPage, type IndexedRollout } from './rollout-query.js';
export { summarizeEval, EvalSummary, EvalExampleRow } from './eval-summary.js';
export { isValidRunId, resolveInside, RUN_ID_PATTERN } from './run-paths.js';
export { StoredRollout, rolloutView, type RolloutView, type RolloutFields } from './stored-rollout.js';
export { formatRunsTable } from './runs-table.js';
export { RunWriter, makeRunId, writeFileAtomic, type CreateRunOptions, type TrainEvalInput } from './run-writer.js';
