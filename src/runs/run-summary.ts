import { z } from 'zod';
import { RunKind, RunStatus, RUN_SCHEMA_VERSION } from '../core/run-manifest.js';

/** One row of the runs list: what `keiko runs` prints and the dashboard's runs table shows. */
export const RunSummary = z.object({
  schemaVersion: z.literal(RUN_SCHEMA_VERSION).default(RUN_SCHEMA_VERSION),
  id: z.string(),
  kind: RunKind,
  status: RunStatus,
  env: z.string(),
  model: z.string(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  steps: z.number().optional(),
  rollouts: z.number().optional(),
  meanReward: z.number().optional(),
  bestReward: z.number().optional(),
  evalReward: z.number().optional(),
  error: z.string().optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;
