import type { RolloutResult } from '../core/rollout-result.js';
import { computeAdvantages, type AdvantageScale } from './advantages.js';
import { filterZeroVariance, type ZeroVariancePolicy } from './filtering.js';
import { applyOverlong, type OverlongPolicy } from './overlong.js';
import { packTrajectory } from './packing.js';
import type { TrainSequence } from '../engine/wire.js';

/** Counts and figures from turning scored groups into a training batch. */
export interface BatchStats {
  groups: number;
  /** Groups dropped because all their rewards were equal. */
  filteredGroups: number;
  /** Groups dropped because fewer than two rollouts finished without error. */
  erroredGroups: number;
  /** Rollouts left out because they ended in an error (sampler failure, env failure). */
  erroredRollouts: number;
  overlongRollouts: number;
  /** Overlong rollouts left out of the loss (`overlong = mask`). */
  maskedRollouts: number;
  prefixBreaks: number;
  /** Rollouts without token ids (cannot be trained). */
  missingTokens: number;
  sequences: number;
  trainTokens: number;
  advantages: number[];
}

/** A training batch: the sequences to send to the engine, plus per-rollout advantages for logging. */
export interface TrainingBatch {
  sequences: TrainSequence[];
  /** The input groups, each rollout with `advantage` set when it was trained on. */
  groups: RolloutResult[][];
  stats: BatchStats;
}

/**
 * Turns scored rollout groups into training sequences: errored rollouts are removed, the overlong
 * policy adjusts rewards or masks rollouts, zero-variance groups are dropped (unless `keep`),
 * advantages are computed over the remaining groups, and each trainable rollout is packed into
 * sequences carrying its advantage and its rollout's `groupId` (so the engine groups by the
 * scheduled group, not by equal prompts). Pure: no I/O, no randomness.
 */
export function buildTrainingBatch(options: {
  groups: readonly (readonly RolloutResult[])[];
  advantageScale: AdvantageScale;
  rloo: boolean;
  zeroVariance: ZeroVariancePolicy;
  overlong: OverlongPolicy;
  overlongPenalty: number;
}): TrainingBatch {
  const stats: BatchStats = {
    groups: options.groups.length,
    filteredGroups: 0,
    erroredGroups: 0,
    erroredRollouts: 0,
    overlongRollouts: 0,
    maskedRollouts: 0,
    prefixBreaks: 0,
    missingTokens: 0,
    sequences: 0,
    trainTokens: 0,
    advantages: [],
  };
  interface Entry {
    result: RolloutResult;
    reward: number;
    trainable: boolean;
  }
  const usable: Entry[][] = [];
  const outGroups = options.groups.map((g) => g.map((r) => ({ ...r, advantage: undefined }) as RolloutResult));
  outGroups.forEach((group) => {
    const entries: Entry[] = [];
    for (const result of group) {
      if (result.stopReason === 'error' || result.error) {
        stats.erroredRollouts++;
        continue;
      }
      const o = applyOverlong({ reward: result.reward, stopReason: result.stopReason, policy: options.overlong, penalty: options.overlongPenalty });
      if (o.overlong) stats.overlongRollouts++;
      if (!o.trainable) stats.maskedRollouts++;
      entries.push({ result, reward: o.reward, trainable: o.trainable });
    }
    if (entries.length < 2) stats.erroredGroups++;
    else usable.push(entries);
  });
  const split = filterZeroVariance({ groups: usable, rewardsOf: (g) => g.map((e) => e.reward), policy: options.zeroVariance });
  stats.filteredGroups = split.dropped.length;
  const advantages = computeAdvantages({ rewards: split.kept.map((g) => g.map((e) => e.reward)), scale: options.advantageScale, rloo: options.rloo });
  const sequences: TrainSequence[] = [];
  split.kept.forEach((group, gi) => {
    group.forEach((entry, ri) => {
      const advantage = advantages[gi]![ri]!;
      entry.result.advantage = advantage;
      if (!entry.trainable) return;
      stats.advantages.push(advantage);
      const packed = packTrajectory({ turns: entry.result.turns });
      stats.prefixBreaks += packed.prefixBreaks;
      if (packed.missingTokens > 0) {
        stats.missingTokens++;
        return;
      }
      for (const seq of packed.sequences) {
        const tokens = seq.lossMask.reduce<number>((a, b) => a + b, 0);
        if (tokens === 0) continue;
        stats.trainTokens += tokens;
        sequences.push({
          inputIds: seq.inputIds,
          lossMask: seq.lossMask,
          advantages: advantage,
          samplerLogprobs: seq.samplerLogprobs,
          ...(seq.policyVersion !== undefined ? { policyVersion: seq.policyVersion } : {}),
          ...(entry.result.groupId !== undefined ? { groupId: entry.result.groupId } : {}),
        });
      }
    });
  });
  stats.sequences = sequences.length;
  return { sequences, groups: outGroups, stats };
}
