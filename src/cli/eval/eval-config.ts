import { z } from 'zod';
import { SamplingArgs } from '../../core/index.js';

/**
 * The validated settings of one `keiko eval` run; stored as the run's `config` in `run.json` so that
 * `--resume` can repeat them exactly.
 */
export const EvalConfig = z.object({
  schemaVersion: z.literal(1).default(1),
  env: z.string().min(1),
  envArgs: z.record(z.string(), z.unknown()).default({}),
  split: z.enum(['eval', 'train']).default('eval'),
  model: z.string().min(1),
  baseUrls: z.array(z.url()).min(1),
  /** Examples to evaluate; undefined = the whole split. */
  examples: z.number().int().positive().optional(),
  /** Rollouts per example (the group of pass@k; `groupSize` in `keiko train` too). */
  groupSize: z.number().int().positive().default(1),
  concurrency: z.number().int().positive().default(32),
  scoringConcurrency: z.number().int().positive().optional(),
  sampling: SamplingArgs.default({}),
  /** Extra request-body fields passed to the server as given (`top_k`, `chat_template_kwargs`…). */
  samplingArgs: z.record(z.string(), z.unknown()).default({}),
  maxTurns: z.number().int().positive().optional(),
  maxTotalTokens: z.number().int().positive().optional(),
  /** Per-request timeout, seconds. */
  timeoutS: z.number().positive().default(600),
  /** Wall-clock limit per rollout, seconds (a rollout past it is recorded as an error). */
  rolloutTimeoutS: z.number().positive().optional(),
  /** Rule of keiko's built-in test server, when the eval ran against it (restarted on resume). */
  testServer: z.string().optional(),
  /** Model folder served by keiko's engine, when the eval ran against it (restarted on resume). */
  engine: z.string().optional(),
  /** Request retries inside the sampler. */
  retries: z.number().int().nonnegative().default(3),
  seed: z.number().int().default(0),
  passThreshold: z.number().default(1),
});
export type EvalConfig = z.infer<typeof EvalConfig>;

/** `metadata.json` of an eval run: what was run and its summary figures. */
export const EvalMetadata = z.object({
  schemaVersion: z.literal(1).default(1),
  env: z.string(),
  model: z.string(),
  examples: z.number().int().nonnegative(),
  rolloutsPerExample: z.number().int().positive(),
  config: EvalConfig,
  durationS: z.number(),
  rolloutsPerSecond: z.number(),
  /** Rollouts that ran to a score; the reward figures and pass@k are over these only. */
  scoredRollouts: z.number().int().nonnegative(),
  /** Mean reward over the scored rollouts (null when none was scored). */
  meanReward: z.number().nullable(),
  stdReward: z.number().nullable(),
  metrics: z.record(z.string(), z.number().nullable()),
  passAtK: z.record(z.string(), z.number()),
  /** Rollouts that ended in an error (never scored), and their share of all rollouts. */
  errors: z.number().int().nonnegative(),
  errorRate: z.number().min(0).max(1),
  errorCodes: z.record(z.string(), z.number().int()),
  /** Scored rollouts where a reward function raised (that function scored 0). */
  scoringErrors: z.number().int().nonnegative(),
  /** The CI thresholds given (`--fail-under`, `--max-error-rate`) and what failed; absent without thresholds. */
  gate: z
    .object({
      failUnder: z.number().optional(),
      maxErrorRate: z.number().optional(),
      passed: z.boolean(),
      failures: z.array(z.string()),
    })
    .optional(),
  stopReasons: z.record(z.string(), z.number().int()),
  status: z.enum(['completed', 'interrupted', 'failed']),
});
export type EvalMetadata = z.infer<typeof EvalMetadata>;
