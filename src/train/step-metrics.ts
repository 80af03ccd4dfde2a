import type { RolloutResult } from '../core/rollout-result.js';
import type { StepMetrics } from '../core/run-manifest.js';
import { mean, std, summarize } from './advantages.js';
import type { BatchStats } from './batch.js';
import type { ForwardBackwardResult, OptimStepResult } from '../engine/wire.js';

/** Everything measured during one training step, turned into a `metrics.jsonl` line by `stepMetrics`. */
export interface StepRecord {
  step: number;
  /** Seconds since the run started (continuing across resumes). */
  time: number;
  lr: number;
  results: readonly RolloutResult[];
  batch: BatchStats;
  forward?: ForwardBackwardResult;
  optim?: OptimStepResult;
  samplingSeconds: number;
  scoringSeconds: number;
  trainingSeconds: number;
  /** Optimizer steps between the policy that sampled the batch and the one trained. */
  staleness: number;
  /** Extra sampling rounds used to replace zero-variance groups. */
  resampleRounds: number;
  /** Why no optimizer step was applied, if none was. */
  skipReason?: 'no_sequences' | 'nonfinite_loss' | 'nonfinite_grad';
}

/**
 * One `metrics.jsonl` line: reward mean/std (and per rubric function as `reward/<name>`), advantage
 * stats, loss, KL, clip fraction, entropy, completion lengths, tokens/s, staleness, filtered
 * groups and the sampling/scoring/training time split.
 */
export function stepMetrics(record: StepRecord): StepMetrics {
  const { results, batch } = record;
  const rewards = results.map((r) => r.reward);
  const completionTokens = results.map((r) => r.usage.completionTokens);
  const lengths = summarize(completionTokens);
  const adv = summarize(batch.advantages);
  const sampledTokens = completionTokens.reduce((a, b) => a + b, 0);
  const stepSeconds = record.samplingSeconds + record.scoringSeconds + record.trainingSeconds;
  const out: StepMetrics = {
    schemaVersion: 1,
    step: record.step,
    time: round(record.time),
    reward: round(mean(rewards)),
    rewardStd: round(std(rewards)),
    rollouts: results.length,
    lr: record.lr,
    loss: finiteOrNull(record.forward?.loss),
    kl: finiteOrNull(record.forward?.kl),
    clipFraction: finiteOrNull(record.forward?.clipFraction),
    entropy: finiteOrNull(record.forward?.entropy),
    gradNorm: finiteOrNull(record.optim?.gradNorm),
    advantageMean: round(adv.mean),
    advantageStd: round(adv.std),
    advantageMin: round(adv.min),
    advantageMax: round(adv.max),
    completionLenMean: round(lengths.mean),
    completionLenMax: lengths.max,
    trainSequences: batch.sequences,
    trainTokens: batch.trainTokens,
    sampledTokensPerSecond: record.samplingSeconds > 0 ? round(sampledTokens / record.samplingSeconds) : null,
    trainTokensPerSecond: record.trainingSeconds > 0 ? round(batch.trainTokens / record.trainingSeconds) : null,
    staleness: record.staleness,
    filteredGroups: batch.filteredGroups,
    erroredGroups: batch.erroredGroups,
    erroredRollouts: batch.erroredRollouts,
    overlongRollouts: batch.overlongRollouts,
    prefixBreaks: batch.prefixBreaks,
    resampleRounds: record.resampleRounds,
    skipped: record.skipReason ? 1 : 0,
    nonfiniteLoss: record.skipReason === 'nonfinite_loss' ? 1 : 0,
    nonfiniteGrad: record.skipReason === 'nonfinite_grad' ? 1 : 0,
    samplingSeconds: round(record.samplingSeconds),
    scoringSeconds: round(record.scoringSeconds),
    trainingSeconds: round(record.trainingSeconds),
    stepSeconds: round(stepSeconds),
  };
  if (record.forward?.logprobDiffMean != null) {
    // sampler–trainer logprob mismatch over the trained tokens (engine: forward_backward)
    out.logprobDiffMean = finiteOrNull(record.forward.logprobDiffMean);
    out.logprobDiffMax = finiteOrNull(record.forward.logprobDiffMax);
    out.logprobDiffAbove = finiteOrNull(record.forward.logprobDiffAbove);
  }
  const names = new Set(results.flatMap((r) => Object.keys(r.metrics)));
  for (const name of [...names].sort()) out[`reward/${name}`] = round(mean(results.map((r) => r.metrics[name] ?? 0)));
  return out;
}

function finiteOrNull(x: number | null | undefined): number | null {
  return x === undefined || x === null || !Number.isFinite(x) ? null : round(x);
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
