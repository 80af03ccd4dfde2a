// The rollout engine: runs environments against samplers, scores, streams results to JSONL.
export { runRollouts, samplingSeed } from './run-rollouts.js';
export type { RunRolloutsOptions, RolloutConcurrency, RolloutProgress } from './run-rollouts.js';
export { summarizeRollouts } from './summary.js';
export type { RolloutSummary } from './summary.js';
export { readResultsFile, dropTornTail, resultKey, JsonlAppender } from './results-file.js';
export type { ResultsFileContents } from './results-file.js';
export { scoreOne, scoreGroup, scoreInput, failedScores } from './score-rollouts.js';
export { rolloutRng, hash32 } from './rollout-seed.js';
export { Semaphore } from './semaphore.js';
