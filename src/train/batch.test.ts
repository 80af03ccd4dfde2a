import { describe, expect, it } from 'vitest';
import type { RolloutResult } from '../core/rollout-result.js';
import { buildTrainingBatch } from './batch.js';

function result(reward: number, opts: Partial<RolloutResult> = {}, ids: number[] = [7, 8]): RolloutResult {
  return {
    schemaVersion: 1,
    exampleId: 'e',
    sample: 0,
    prompt: [],
    completion: [],
    info: {},
    turns: [
      {
        prompt: [],
        completion: { role: 'assistant', content: 'x' },
        finishReason: 'stop',
        tokens: { promptIds: [1, 2], completionIds: ids, completionLogprobs: ids.map(() => -1) },
      },
    ],
    stopReason: 'terminated',
    reward,
    metrics: {},
    timing: { generationMs: 0, scoringMs: 0, totalMs: 0 },
    usage: { promptTokens: 2, completionTokens: ids.length },
    ...opts,
  };
}

const base = { advantageScale: 'none', rloo: false, zeroVariance: 'drop', overlong: 'none', overlongPenalty: -1 } as const;

describe('buildTrainingBatch', () => {
  it("puts each rollout's group id on its sequences, so the engine groups by it", () => {
    const batch = buildTrainingBatch({ ...base, groups: [[result(1, { groupId: '3:0' }), result(0, { groupId: '3:0' })], [result(0, { groupId: '3:1' }), result(1, { groupId: '3:1' })]] });
    expect(batch.sequences.map((s) => s.groupId)).toEqual(['3:0', '3:0', '3:1', '3:1']);
  });

  it('drops zero-variance groups, counts them, and packs the rest with their advantages', () => {
    const batch = buildTrainingBatch({ ...base, groups: [[result(1), result(0)], [result(1), result(1)]] });
    expect(batch.stats.filteredGroups).toBe(1);
    expect(batch.sequences).toEqual([
      { inputIds: [1, 2, 7, 8], lossMask: [0, 0, 1, 1], advantages: 0.5, samplerLogprobs: [0, 0, -1, -1] },
      { inputIds: [1, 2, 7, 8], lossMask: [0, 0, 1, 1], advantages: -0.5, samplerLogprobs: [0, 0, -1, -1] },
    ]);
    expect(batch.stats.trainTokens).toBe(4);
    expect(batch.groups[0]!.map((r) => r.advantage)).toEqual([0.5, -0.5]);
    expect(batch.groups[1]!.map((r) => r.advantage)).toEqual([undefined, undefined]);
  });

  it('leaves errored rollouts out of the group and drops groups left with fewer than two', () => {
    const err = { stopReason: 'error' as const, error: { name: 'SamplerError', code: 'sampler_error', message: 'boom' } };
    const batch = buildTrainingBatch({ ...base, groups: [[result(1), result(0), result(0, err)], [result(1), result(0, err)]] });
    expect(batch.stats.erroredRollouts).toBe(2);
    expect(batch.stats.erroredGroups).toBe(1);
    expect(batch.sequences.map((s) => s.advantages)).toEqual([0.5, -0.5]);
  });

  it('masks overlong rollouts out of the loss but keeps them in the baseline', () => {
    const batch = buildTrainingBatch({ ...base, overlong: 'mask', groups: [[result(1), result(0, { stopReason: 'truncated' }), result(0.5)]] });
    expect(batch.stats.overlongRollouts).toBe(1);
    expect(batch.stats.maskedRollouts).toBe(1);
    expect(batch.sequences.map((s) => s.advantages)).toEqual([0.5, 0]);
  });

  it('penalises overlong rollouts', () => {
    const batch = buildTrainingBatch({ ...base, overlong: 'penalty', overlongPenalty: -1, groups: [[result(1, { stopReason: 'truncated' }), result(0)]] });
    // rewards 0 and 0 → zero variance → dropped
    expect(batch.stats.filteredGroups).toBe(1);
    expect(batch.sequences).toEqual([]);
  });

  it('counts rollouts without token ids and does not train on them', () => {
    const noTokens = result(1);
    noTokens.turns = [{ prompt: [], completion: { role: 'assistant', content: 'x' }, finishReason: 'stop' }];
    const batch = buildTrainingBatch({ ...base, groups: [[noTokens, result(0)]] });
    expect(batch.stats.missingTokens).toBe(1);
    expect(batch.sequences).toHaveLength(1);
  });
});
