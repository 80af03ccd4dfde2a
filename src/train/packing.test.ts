import { describe, expect, it } from 'vitest';
import type { Turn } from '../core/trajectory.js';
import { packTrajectory } from './packing.js';

function turn(promptIds: number[], completionIds: number[], logprobs?: number[], policyVersion?: number): Turn {
  return {
    ...(policyVersion !== undefined ? { policyVersion } : {}),
    prompt: [],
    completion: { role: 'assistant', content: '' },
    finishReason: 'stop',
    tokens: { promptIds, completionIds, completionLogprobs: logprobs ?? completionIds.map((id) => -id / 100) },
  };
}

describe('packTrajectory', () => {
  it('packs a single turn: prompt masked 0, completion masked 1 with sampler logprobs', () => {
    const { sequences, prefixBreaks } = packTrajectory({ turns: [turn([1, 2, 3], [10, 11], [-0.5, -0.25])] });
    expect(prefixBreaks).toBe(0);
    expect(sequences).toEqual([
      { inputIds: [1, 2, 3, 10, 11], lossMask: [0, 0, 0, 1, 1], samplerLogprobs: [0, 0, 0, -0.5, -0.25] },
    ]);
  });

  it('merges later turns whose prompt extends the sequence; env tokens are masked out', () => {
    const turns = [
      turn([1, 2], [10, 11], undefined, 4),
      // previous full sequence [1,2,10,11] + env reply [20,21] + template [3]
      turn([1, 2, 10, 11, 20, 21, 3], [12], undefined, 3),
      turn([1, 2, 10, 11, 20, 21, 3, 12, 22], [13, 14], undefined, 5),
    ];
    const { sequences, prefixBreaks, missingTokens } = packTrajectory({ turns });
    expect(prefixBreaks).toBe(0);
    expect(missingTokens).toBe(0);
    expect(sequences).toHaveLength(1);
    const s = sequences[0]!;
    expect(s.inputIds).toEqual([1, 2, 10, 11, 20, 21, 3, 12, 22, 13, 14]);
    expect(s.lossMask).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 1]);
    expect(s.samplerLogprobs).toEqual([0, 0, -0.1, -0.11, 0, 0, 0, -0.12, 0, -0.13, -0.14]);
    expect(s.policyVersion).toBe(3); // the oldest policy that sampled any of its turns
  });

  it('splits at a prefix break and counts it, never re-tokenizing', () => {
    const turns = [
      turn([1, 2], [10, 11]),
      // the template re-rendered the previous assistant turn as [10, 99]: not a prefix
      turn([1, 2, 10, 99, 20], [12]),
      turn([1, 2, 10, 99, 20, 12, 21], [13]),
    ];
    const { sequences, prefixBreaks } = packTrajectory({ turns });
    expect(prefixBreaks).toBe(1);
    expect(sequences).toHaveLength(2);
    expect(sequences[0]!.inputIds).toEqual([1, 2, 10, 11]);
    expect(sequences[1]!.inputIds).toEqual([1, 2, 10, 99, 20, 12, 21, 13]);
    expect(sequences[1]!.lossMask).toEqual([0, 0, 0, 0, 0, 1, 0, 1]);
    expect(sequences[1]!.policyVersion).toBeUndefined(); // its turns do not say which policy sampled them
  });

  it('counts turns without tokens and does not merge across them', () => {
    const noTokens: Turn = { prompt: [], completion: { role: 'assistant', content: 'x' }, finishReason: 'error' };
    const { sequences, missingTokens, prefixBreaks } = packTrajectory({ turns: [turn([1], [2]), noTokens, turn([1, 2, 3], [4])] });
    expect(missingTokens).toBe(1);
    expect(prefixBreaks).toBe(0);
    expect(sequences.map((s) => s.inputIds)).toEqual([[1, 2], [1, 2, 3, 4]]);
  });

  it('rejects a turn whose logprobs do not match its ids', () => {
    expect(() => packTrajectory({ turns: [turn([1], [2, 3], [-1])] })).toThrow(/2 completion ids but 1 logprobs/);
  });
});
