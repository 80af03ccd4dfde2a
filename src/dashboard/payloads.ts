import { z } from 'zod';
import type { StepMetrics } from '../core/index.js';
import type { EvalSummary } from '../runs/index.js';
import type { RolloutPage } from '../runs/index.js';
import type { RunDetail } from '../runs/index.js';
import type { RunSummary } from '../runs/index.js';
import type { RolloutView } from '../runs/index.js';

/** Version of the dashboard's JSON API payloads (`schemaVersion` in every response). */
export const DASHBOARD_API_VERSION = 1;

const intParam = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flagParam = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');

/** `GET /api/runs` query: optional filters. Unknown parameters are rejected (400). */
export const RunsQuery = z
  .object({
    kind: z.enum(['eval', 'train', 'sft']).optional(),
    status: z.enum(['running', 'completed', 'failed', 'interrupted']).optional(),
    q: z.string().max(200).optional(),
  })
  .strict();

/** `GET /api/runs/:id/metrics` query: only rows with `step >= since`. */
export const MetricsQuery = z.object({ since: intParam(0, 1e9).optional() }).strict();

/** `GET /api/runs/:id/rollouts` query: one source (or `step`), paging, sort, filters. */
export const RolloutsQuery = z
  .object({
    source: z.string().max(200).optional(),
    step: intParam(0, 1e9).optional(),
    offset: intParam(0, 1e9).default(0),
    limit: intParam(1, 500).default(20),
    sort: z.enum(['index', 'reward_asc', 'reward_desc']).default('index'),
    errors: flagParam.default(false),
    q: z.string().max(200).optional(),
    /** Include each rollout's token-level turns (validated as served). */
    turns: flagParam.default(false),
  })
  .strict();

/** `GET /api/runs/:id/eval` query: which eval, and the reward that counts as a pass. */
export const EvalQuery = z
  .object({
    source: z.string().max(200).default('results'),
    threshold: z.coerce.number().min(-1e9).max(1e9).optional(),
  })
  .strict();

/** Every error response: `{ error: { code, message } }` with a 4xx/5xx status. */
export interface ApiError {
  schemaVersion: number;
  error: { code: string; message: string };
}

/** `GET /api/runs`. */
export interface RunsResponse {
  schemaVersion: number;
  runsDir: string;
  runs: RunSummary[];
  warnings: string[];
}

/** `GET /api/runs/:id`. */
export type RunResponse = RunDetail;

/** `GET /api/runs/:id/metrics`. */
export interface MetricsResponse {
  schemaVersion: number;
  rows: StepMetrics[];
  skipped: number;
  warnings: string[];
}

/** `GET /api/runs/:id/rollouts`. */
export interface RolloutsResponse extends RolloutPage<RolloutView> {
  schemaVersion: number;
  source: string;
  skipped: number;
  warnings: string[];
}

/** `GET /api/runs/:id/eval`. */
export interface EvalResponse {
  schemaVersion: number;
  source: string;
  summary: EvalSummary;
  skipped: number;
  warnings: string[];
}

/** The `update` server-sent event: something in the run folder changed. */
export interface UpdateEvent {
  status: string;
  metricsSize: number;
  manifestMtimeMs: number;
}

/**
 * The data a static report embeds in its page (`<script id="keiko-report" type="application/json">`):
 * one run, its metrics, a sample of rollouts per source and its eval summaries.
 */
export interface ReportData {
  schemaVersion: number;
  generatedAt: string;
  summary: RunSummary;
  run: RunDetail;
  metrics: StepMetrics[];
  /** Rollouts included in the report, by source (`rollouts/step-<n>`, `results`, `evals/<name>`). */
  rollouts: Record<string, RolloutView[]>;
  /** Total rollouts of each included source before sampling. */
  rolloutTotals: Record<string, number>;
  evals: Record<string, EvalSummary>;
}
