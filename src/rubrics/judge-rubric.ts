import {
  ConfigError,
  type Sampler,
  type SamplingArgs,
  type ScoreInput,
} from '../core/index.js';
import { extractAnswer, lastUserText } from './reward-helpers.js';
import { FunctionRubric } from './rubric.js';

/** Default judge prompt; `{question}`, `{answer}` and `{response}` are filled in. */
export const DEFAULT_JUDGE_PROMPT = `Given a question, a reference answer and a response, say whether the response is correct.

Question: {question}
Reference answer: {answer}
Response: {response}

Reply with "yes" or "no" only.`;

const PLACEHOLDERS = ['question', 'answer', 'response'] as const;

export interface JudgeRubricOptions {
  /** Any sampler: an OpenAI-compatible server, the engine, a scripted double. */
  sampler: Sampler;
  /** Template with `{question}`, `{answer}`, `{response}`. Default `DEFAULT_JUDGE_PROMPT`. */
  prompt?: string;
  /** Turns the judge's reply into a score. Default: 1 when it starts with "yes", else 0. */
  parseVerdict?: (reply: string) => number;
  /** The response text to judge. Default: the parser's answer when it has `parseAnswer`, else the last assistant text. */
  extractResponse?: (input: ScoreInput) => string;
  /** Sampling for the judge. Default temperature 0. */
  sampling?: SamplingArgs;
  /** Metric name. Default 'judge'. */
  name?: string;
  /** Default 1. */
  weight?: number;
  /** Cache verdicts by rendered prompt (the same question, answer and response are judged once). Default true. */
  cache?: boolean;
  /** Most verdicts kept; the oldest are dropped first. Default 100,000. */
  maxCacheSize?: number;
}

/**
 * A rubric whose single function asks a judge model whether the response is right. Verdicts are
 * cached by the rendered prompt, and concurrent requests for the same key share one call; a failed
 * call is not cached, scores 0 and records its error.
 */
export class JudgeRubric extends FunctionRubric {
  private readonly cache = new Map<string, Promise<number>>();
  /** Judge calls made (cache misses). */
  calls = 0;
  /** Verdicts served from the cache. */
  cacheHits = 0;

  constructor(options: JudgeRubricOptions) {
    if (!options?.sampler || typeof options.sampler.chat !== 'function') {
      throw new ConfigError('judgeRubric needs a `sampler` (any object with chat())');
    }
    const template = options.prompt ?? DEFAULT_JUDGE_PROMPT;
    if (!PLACEHOLDERS.some((p) => template.includes(`{${p}}`))) {
      throw new ConfigError(`judge prompt uses none of ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}; include at least {response}`);
    }
    const parseVerdict = options.parseVerdict ?? ((reply: string) => (/^\W*yes\b/i.test(reply) ? 1 : 0));
    const sampling: SamplingArgs = { temperature: 0, ...options.sampling };
    const useCache = options.cache ?? true;
    const maxCacheSize = options.maxCacheSize ?? 100_000;
    if (!(Number.isInteger(maxCacheSize) && maxCacheSize > 0)) {
      throw new ConfigError(`judgeRubric maxCacheSize must be a positive integer, got ${maxCacheSize}`);
    }
    const judge = async (input: ScoreInput): Promise<number> => {
      const response = options.extractResponse ? options.extractResponse(input) : (extractAnswer(input) ?? '');
      const filled = render(template, {
        question: lastUserText(input.prompt),
        answer: input.answer === undefined ? '' : typeof input.answer === 'string' ? input.answer : JSON.stringify(input.answer),
        response,
      });
      const cached = useCache ? this.cache.get(filled) : undefined;
      if (cached) {
        this.cacheHits++;
        return cached;
      }
      this.calls++;
      const pending = options.sampler
        .chat({ messages: [{ role: 'user', content: filled }], sampling })
        .then((res) => parseVerdict(res.choices[0]?.message.content ?? ''));
      if (useCache) {
        if (this.cache.size >= maxCacheSize) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(filled, pending);
        pending.catch(() => this.cache.delete(filled));
      }
      return pending;
    };
    super({ funcs: [{ name: options.name ?? 'judge', fn: judge, weight: options.weight ?? 1 }] });
  }
}

/** Builds a `JudgeRubric` from one options object. */
export function judgeRubric(options: JudgeRubricOptions): JudgeRubric {
  return new JudgeRubric(options);
}

function render(template: string, values: Record<(typeof PLACEHOLDERS)[number], string>): string {
  return template.replace(/\{(question|answer|response)\}/g, (_, k: (typeof PLACEHOLDERS)[number]) => values[k]);
}
