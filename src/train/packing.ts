import type { Turn } from '../core/trajectory.js';

/**
 * One training sequence, all arrays of length T: the token ids the sampler saw and produced, a loss
 * mask (1 = a sampled completion token, 0 = prompt or environment token), and the sampler's
 * logprob for every masked-in token (0 elsewhere).
 */
export interface PackedSequence {
  inputIds: number[]; // [T]
  lossMask: (0 | 1)[]; // [T]
  samplerLogprobs: number[]; // [T]
  /** Oldest policy version among the turns packed into it; undefined when a turn does not say. */
  policyVersion?: number;
}

/** The sequences of one trajectory and what could not be merged. */
export interface PackResult {
  sequences: PackedSequence[];
  /** Times a turn's prompt did not extend the previous sequence, so a new sequence was started. */
  prefixBreaks: number;
  /** Turns without token ids (sampler did not return them); the trajectory cannot be trained. */
  missingTokens: number;
}

/**
 * Packs a multi-turn trajectory into training sequences without re-tokenizing anything. The first
 * turn gives `promptIds + completionIds`. A later turn whose `promptIds` start with the whole
 * current sequence is merged: the new prompt tokens (environment/tool replies rendered by the chat
 * template) are appended with mask 0, its completion with mask 1. If the prefix does not match —
 * the template re-rendered earlier turns differently — the current sequence is closed, a new one
 * starts from this turn, and the break is counted. Turns without tokens are counted and skipped,
 * and close the current sequence.
 */
export function packTrajectory(options: { turns: readonly Turn[] }): PackResult {
  const sequences: PackedSequence[] = [];
  let current: PackedSequence | undefined;
  let prefixBreaks = 0;
  let missingTokens = 0;
  options.turns.forEach((turn, index) => {
    const tokens = turn.tokens;
    if (!tokens) {
      missingTokens++;
      if (current) sequences.push(current);
      current = undefined;
      return;
    }
    if (tokens.completionLogprobs.length !== tokens.completionIds.length) {
      throw new RangeError(
        `turn ${index}: ${tokens.completionIds.length} completion ids but ${tokens.completionLogprobs.length} logprobs`,
      );
    }
    if (current && startsWith(tokens.promptIds, current.inputIds)) {
      const added = tokens.promptIds.slice(current.inputIds.length);
      appendTokens(current, added, 0);
      appendCompletion(current, tokens.completionIds, tokens.completionLogprobs);
      current.policyVersion = oldest(current.policyVersion, turn.policyVersion);
      return;
    }
    if (current) {
      prefixBreaks++;
      sequences.push(current);
    }
    current = { inputIds: [], lossMask: [], samplerLogprobs: [], ...(turn.policyVersion !== undefined ? { policyVersion: turn.policyVersion } : {}) };
    appendTokens(current, tokens.promptIds, 0);
    appendCompletion(current, tokens.completionIds, tokens.completionLogprobs);
  });
  if (current) sequences.push(current);
  return { sequences, prefixBreaks, missingTokens };
}

function oldest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : Math.min(a, b);
}

function appendTokens(seq: PackedSequence, ids: readonly number[], mask: 0 | 1): void {
  for (const id of ids) {
    seq.inputIds.push(id);
    seq.lossMask.push(mask);
    seq.samplerLogprobs.push(0);
  }
}

function appendCompletion(seq: PackedSequence, ids: readonly number[], logprobs: readonly number[]): void {
  ids.forEach((id, i) => {
    seq.inputIds.push(id);
    seq.lossMask.push(1);
    seq.samplerLogprobs.push(logprobs[i]!);
  });
}

/** True when `prefix` is a prefix of `ids`. */
export function startsWith(ids: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > ids.length) return false;
  for (let i = 0; i < prefix.length; i++) if (ids[i] !== prefix[i]) return false;
  return true;
}
