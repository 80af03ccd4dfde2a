import { z } from 'zod';
import { RunManifest } from '../core/run-manifest.js';

/**
 * One row of the runs list: what `keiko runs` prints and the dashboard's runs table shows — the
 * manifest's identity fields with its summary figures flattened in.
 */
export const RunSummary = RunManifest.pick({
  schemaVersion: true,
  id: true,
  kind: true,
  status: true,
  env: true,
  model: true,
  startedAt: true,
  endedAt: true,
  error: true,
}).extend({
  steps: z.number().optional(),
  rollouts: z.number().optional(),
  meanReward: z.number().optional(),
  bestReward: z.number().optional(),
  /** The held-out score: an eval run's mean reward; a training run's latest eval (before, step-N or after). */
  evalReward: z.number().optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;
