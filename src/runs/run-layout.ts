import { z } from 'zod';
import { RUN_FILES } from '../core/run-manifest.js';

/**
 * The layout of a run folder (`runs/<id>/`), for eval, sft and train runs alike. `RunWriter` writes
 * these paths and `RunStore` reads them; nothing else names them.
 *
 * | path | kinds | what |
 * | --- | --- | --- |
 * | `run.json` | all | the `RunManifest` (rewritten atomically) |
 * | `config.json` | train, sft | the validated config (`--resume` reads it back) |
 * | `results.jsonl` + `metadata.json` | eval | the `RolloutResult` lines and the eval's summary |
 * | `metrics.jsonl` | train, sft | one `StepMetrics` line per step |
 * | `rollouts/step-<n>.jsonl` | train | the `RolloutResult` lines of step n |
 * | `evals/<label>.jsonl` + `evals/<label>.json` | train | a held-out eval (`before`, `step-<n>`, `after`): its `RolloutResult` lines and its `TrainEvalSummary` |
 * | `checkpoints/step-NNNNNN/` | train, sft | checkpoints |
 * | `tracking/` | train, eval | files of the `--track` backend (W&B's offline run, TensorBoard's event files) |
 *
 * A *rollout source* names a file of rollouts: `results`, `rollouts/step-<n>` or `evals/<label>`.
 */
export const runLayout = {
  ...RUN_FILES,
  /** `tracking/`: where `--track wandb|tensorboard` writes its files. */
  trackingDir: 'tracking',
  /** `rollouts/step-<n>.jsonl` */
  stepRollouts: (step: number): string => `${RUN_FILES.rolloutsDir}/step-${step}.jsonl`,
  /** `evals/<label>.jsonl`: the eval's rollouts. */
  evalRollouts: (label: string): string => `${RUN_FILES.evalsDir}/${label}.jsonl`,
  /** `evals/<label>.json`: the eval's summary (`TrainEvalSummary`). */
  evalSummary: (label: string): string => `${RUN_FILES.evalsDir}/${label}.json`,
  /** `checkpoints/step-NNNNNN`: the checkpoint saved after step n. */
  checkpoint: (step: number): string => `${RUN_FILES.checkpointsDir}/${checkpointDirName(step)}`,
} as const;

/** `step-000012`: the folder name of the checkpoint saved after step 12. */
export function checkpointDirName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

/** The rollout source of training step n's rollouts: `rollouts/step-<n>`. */
export function stepSource(step: number): string {
  return `${RUN_FILES.rolloutsDir}/step-${step}`;
}

/** A label of a training eval: `before`, `after`, `step-<n>`, or any file-name-safe word. */
export const EVAL_LABEL_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,120}$/;

/**
 * Where rollouts of a run live: `results` (an eval's results.jsonl), `rollouts/step-<n>` (a training
 * step) or `evals/<label>` (an eval during training).
 */
export const ROLLOUT_SOURCE_PATTERN = /^(results|rollouts\/step-\d{1,9}|evals\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,120})$/;

/** The file (relative to the run folder) holding a rollout source's lines. */
export function rolloutSourceFile(source: string): string {
  return source === 'results' ? RUN_FILES.results : `${source}.jsonl`;
}

/** The step of a `rollouts/` file name (`step-12.jsonl` → 12), or `undefined`. */
export function stepOfRolloutsFile(name: string): number | undefined {
  const m = /^step-(\d+)\.jsonl$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The label of an `evals/` rollouts file name (`before.jsonl` → `before`), or `undefined`. */
export function labelOfEvalFile(name: string): string | undefined {
  if (!name.endsWith('.jsonl')) return undefined;
  const label = name.slice(0, -'.jsonl'.length);
  return EVAL_LABEL_PATTERN.test(label) ? label : undefined;
}

/** Orders eval labels as they ran: `before`, `step-<n>` by n, `after`; other labels after those, by name. */
export function compareEvalLabels(a: string, b: string): number {
  const rank = (label: string): number => {
    if (label === 'before') return -1;
    if (label === 'after') return Number.MAX_SAFE_INTEGER;
    const m = /^step-(\d+)$/.exec(label);
    return m ? Number(m[1]) : Infinity;
  };
  const d = rank(a) - rank(b);
  return Number.isNaN(d) || d === 0 ? a.localeCompare(b, undefined, { numeric: true }) : d;
}

/** `evals/<label>.json`: what one held-out eval during training measured (its rollouts are beside it). */
export const TrainEvalSummary = z.object({
  schemaVersion: z.literal(1).default(1),
  label: z.string(),
  /** Optimizer steps done when the eval ran (0 for `before`). */
  step: z.number().int().nonnegative(),
  policyVersion: z.number().int().nonnegative(),
  examples: z.number().int().nonnegative(),
  samplesPerExample: z.number().int().positive(),
  temperature: z.number(),
  /** Mean reward over the eval's rollouts (null when there were none). */
  reward: z.number().nullable(),
  /** Mean of every rubric function's score. */
  metrics: z.record(z.string(), z.number().nullable()),
  errors: z.number().int().nonnegative(),
  seconds: z.number(),
  /** The rollouts file, relative to the run folder. */
  rollouts: z.string(),
});
export type TrainEvalSummary = z.infer<typeof TrainEvalSummary>;
