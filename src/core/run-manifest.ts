import { z } from 'zod';

export const RUN_SCHEMA_VERSION = 1;

/**
 * The files of a run folder (`runs/<id>/`). Eval runs write `results.jsonl` + `metadata.json`;
 * training runs add `config.json`, `metrics.jsonl`, `rollouts/step-<n>.jsonl`, `evals/` and
 * `checkpoints/`. Every folder has `run.json`, the manifest below.
 */
export const RUN_FILES = {
  manifest: 'run.json',
  config: 'config.json',
  metadata: 'metadata.json',
  results: 'results.jsonl',
  metrics: 'metrics.jsonl',
  rolloutsDir: 'rollouts',
  evalsDir: 'evals',
  checkpointsDir: 'checkpoints',
} as const;

export const RunKind = z.enum(['eval', 'train', 'sft']);
export type RunKind = z.infer<typeof RunKind>;

export const RunStatus = z.enum(['running', 'completed', 'failed', 'interrupted']);
export type RunStatus = z.infer<typeof RunStatus>;

/** `run.json`: what a run is, how it went, and where its pieces are. Rewritten atomically on change. */
export const RunManifest = z.object({
  schemaVersion: z.literal(RUN_SCHEMA_VERSION).default(RUN_SCHEMA_VERSION),
  id: z.string(),
  kind: RunKind,
  status: RunStatus,
  env: z.string(),
  model: z.string(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  /** The validated config the run was started with. */
  config: z.record(z.string(), z.unknown()).default({}),
  summary: z
    .object({
      rollouts: z.number().int().nonnegative().optional(),
      steps: z.number().int().nonnegative().optional(),
      meanReward: z.number().optional(),
      bestReward: z.number().optional(),
      evalReward: z.number().optional(),
    })
    .default({}),
  checkpoints: z.array(z.object({ step: z.number().int(), path: z.string() })).default([]),
  error: z.string().optional(),
});
export type RunManifest = z.infer<typeof RunManifest>;

/** One line of `metrics.jsonl`: a training step. Fields beyond these are allowed (per-function rewards…). */
export const StepMetrics = z
  .object({
    schemaVersion: z.literal(RUN_SCHEMA_VERSION).default(RUN_SCHEMA_VERSION),
    step: z.number().int().nonnegative(),
    time: z.number().describe('seconds since the run started'),
    reward: z.number().optional(),
    rewardStd: z.number().optional(),
    evalReward: z.number().optional(),
  })
  .catchall(z.number().nullable());
export type StepMetrics = z.infer<typeof StepMetrics>;
