// The rollout engine: runs environments against samplers, scores, streams results to JSONL.
export { runRollouts } from './run-rollouts.js';
export type { RunRolloutsOptions, RolloutConcurrency, RolloutProgress } from './run-rollouts.js';
export { summarizeRollouts } from './summary.js';
export type { RolloutSummary } from './summary.js';
export { readResultsFile, dropTornTail, resultKey, JsonlAppender } from './results-file.js';
export type { ResultsFileContents } from './results-file.js';
export { scoreOne, scoreGroup, scoreInput, failedScores } from './score-rollouts.js';
export { rolloutRng, hash32, samplingSeed, exampleSeeding, forkedSeeding } from './rollout-seed.js';
export type { SeedingPolicy, RolloutSeeds, RolloutSlot } from './rollout-seed.js';
export { noGroupIds, numberedGroups } from './rollout-group.js';
export type { GroupingPolicy } from './rollout-group.js';
export { scheduleRollouts } from './schedule-rollouts.js';
export type { ScheduleRolloutsOptions, ScheduleTiming } from './schedule-rollouts.js';
export { sampleGroups } from './sample-groups.js';
export type { SampledGroups } from './sample-groups.js';
export { Semaphore } from './semaphore.js';
