import {
  ConfigError,
  type Sampler,
  type SamplingArgs,
  type ScoreInput,
} from '../core/index.js';
import { extractAnswer, lastUserText } from './reward-helpers.js';
import { FunctionRubric } from './rubric.js';

/** Default relative-judge prompt; `{question}` and `{responses}` (numbered from 1) are filled in. */
export const DEFAULT_RELATIVE_JUDGE_PROMPT = `Here is a question and several responses to it.

Question: {question}

{responses}

Which response is best? Reply "Best: N" with its number only.`;

export interface RelativeJudgeRubricOptions {
  sampler: Sampler;
  /** Template with `{question}` and `{responses}`. */
  prompt?: string;
  /** Reads the chosen response's 1-based number from the judge's reply. Default: the number after "Best:". */
  parseChoice?: (reply: string) => number | undefined;
  /** The text shown for each rollout. Default: the parser's answer, else the last assistant text. */
  extractResponse?: (input: ScoreInput) => string;
  sampling?: SamplingArgs;
  /** Default 'relative_judge'. */
  name?: string;
  /** Default 1. */
  weight?: number;
}

/**
 * A group-level judge: it sees every rollout of one prompt at once and picks the best, which
 * scores 1 (the others 0). Relative judgements suit GRPO, whose advantages are relative anyway.
 * An unreadable verdict scores the whole group 0 and records why.
 */
export class RelativeJudgeRubric extends FunctionRubric {
  constructor(options: RelativeJudgeRubricOptions) {
    if (!options?.sampler || typeof options.sampler.chat !== 'function') {
      throw new ConfigError('relativeJudgeRubric needs a `sampler` (any object with chat())');
    }
    const template = options.prompt ?? DEFAULT_RELATIVE_JUDGE_PROMPT;
    if (!template.includes('{responses}')) throw new ConfigError('relative judge prompt must include {responses}');
    const parseChoice = options.parseChoice ?? ((reply: string) => {
      const m = /best\s*:?\s*#?(\d+)/i.exec(reply) ?? /^\s*(\d+)\s*$/.exec(reply);
      return m ? Number(m[1]) : undefined;
    });
    const extract = options.extractResponse ?? ((i: ScoreInput) => extractAnswer(i) ?? '');
    const sampling: SamplingArgs = { temperature: 0, ...options.sampling };
    const groupFn = async (inputs: ScoreInput[]): Promise<number[]> => {
      if (inputs.length === 1) return [1];
      const responses = inputs.map((i, k) => `Response ${k + 1}:\n${extract(i)}`).join('\n\n');
      const filled = template.replace(/\{(question|responses)\}/g, (_, key: string) =>
        key === 'responses' ? responses : lastUserText(inputs[0]!.prompt),
      );
      const res = await options.sampler.chat({ messages: [{ role: 'user', content: filled }], sampling });
      const reply = res.choices[0]?.message.content ?? '';
      const choice = parseChoice(reply);
      if (choice === undefined || !Number.isInteger(choice) || choice < 1 || choice > inputs.length) {
        throw new Error(`relative judge gave no valid choice in 1-${inputs.length}: ${JSON.stringify(reply.slice(0, 200))}`);
      }
      return inputs.map((_, k) => (k + 1 === choice ? 1 : 0));
    };
    super({ funcs: [{ name: options.name ?? 'relative_judge', groupFn, weight: options.weight ?? 1 }] });
  }
}

/** Builds a `RelativeJudgeRubric` from one options object. */
export function relativeJudgeRubric(options: RelativeJudgeRubricOptions): RelativeJudgeRubric {
  return new RelativeJudgeRubric(options);
}
