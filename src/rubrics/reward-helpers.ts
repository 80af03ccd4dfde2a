import { lastAssistantText, type ChatMessage, type ScoreInput } from '../core/index.js';
import { exactMatch, tokenF1 } from './answer-match.js';
import { numericEqual, type NumericEqualOptions } from './numeric.js';
import type { RewardSpec } from './reward-function.js';

interface HelperOptions {
  name?: string;
  /** Default 1. */
  weight?: number;
  /**
   * Reads the model's answer. Default: the parser's `parseAnswer(completion)` when the input's
   * parser has one, else the last assistant message's text.
   */
  extract?: (input: ScoreInput) => string | undefined;
}

/** The model's answer as the default `extract` reads it. */
export function extractAnswer(input: ScoreInput): string | undefined {
  const parser = input.parser as { parseAnswer?: (c: ChatMessage[]) => string | undefined } | undefined;
  if (parser && typeof parser.parseAnswer === 'function') return parser.parseAnswer(input.completion);
  return lastAssistantText(input.completion);
}

/** The text of the last user message, '' when there is none (the question, for judges). */
export function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'user') return m.content;
  }
  return '';
}

function golds(answer: unknown): string[] {
  if (Array.isArray(answer)) return answer.map(String);
  return answer === undefined || answer === null ? [] : [String(answer)];
}

/** Reward 1 when the answer matches a gold answer (string or list) after SQuAD normalisation. */
export function exactMatchReward(options: HelperOptions = {}): RewardSpec {
  const extract = options.extract ?? extractAnswer;
  return { name: options.name ?? 'exact_match', weight: options.weight ?? 1, fn: (i) => exactMatch(extract(i), golds(i.answer)) };
}

/** Token F1 between the answer and the best gold answer. */
export function f1Reward(options: HelperOptions = {}): RewardSpec {
  const extract = options.extract ?? extractAnswer;
  return { name: options.name ?? 'f1', weight: options.weight ?? 1, fn: (i) => tokenF1(extract(i), golds(i.answer)) };
}

/** Reward 1 when the answer is numerically equal to the gold answer within tolerance. */
export function numericReward(options: HelperOptions & NumericEqualOptions = {}): RewardSpec {
  const extract = options.extract ?? extractAnswer;
  const tol: NumericEqualOptions = {
    ...(options.absTol !== undefined ? { absTol: options.absTol } : {}),
    ...(options.relTol !== undefined ? { relTol: options.relTol } : {}),
  };
  return {
    name: options.name ?? 'correct',
    weight: options.weight ?? 1,
    fn: (i) => numericEqual(extract(i), i.answer as string | number, tol),
  };
}
