import { z } from 'zod';
import { Rng, type ChatMessage, type Example } from '../../src/core/index.js';
import { parseEnvArgs, singleTurnEnv, type SingleTurnEnv } from '../../src/envs/index.js';
import { XMLParser, numericEqual, rubric } from '../../src/rubrics/index.js';

/** Arguments of the `arithmetic` environment (all optional). */
export const ArithmeticArgs = z.object({
  /** Largest operand size in digits: 1 → 0-9, 2 → 0-99. */
  digits: z.number().int().min(1).max(9).default(2),
  /** Operators to draw from, e.g. '+' or '+-*'. */
  ops: z.string().regex(/^[+\-*]+$/, "use any of the characters '+', '-', '*'").default('+'),
  /** Training examples. */
  count: z.number().int().min(0).default(1000),
  /** Evaluation examples (drawn from a separate stream). */
  evalCount: z.number().int().min(0).default(100),
  seed: z.number().int().default(0),
  /** Allow negative results for '-' (otherwise operands are ordered so a − b ≥ 0). */
  negative: z.boolean().default(false),
  /** Weight of the format reward (0 = metric only, so a perfect answer scores exactly 1). */
  formatWeight: z.number().min(0).default(0),
  /** Probability that `demonstrate` gives a wrong answer (a noisy teacher). */
  demoErrorRate: z.number().min(0).max(1).default(0),
  systemPrompt: z.string().optional(),
});
export type ArithmeticArgs = z.input<typeof ArithmeticArgs>;

const DEFAULT_SYSTEM = 'Reply <answer>N</answer>.';

/** The parser arithmetic answers are read with. */
export const arithmeticParser = new XMLParser({ fields: ['answer'] });

function makeRows(n: number, rng: Rng, a: z.infer<typeof ArithmeticArgs>, prefix: string) {
  const hi = 10 ** a.digits - 1;
  const rows = [];
  for (let i = 0; i < n; i++) {
    const op = rng.choice([...a.ops]);
    let x = rng.int(0, hi);
    let y = rng.int(0, hi);
    if (op === '-' && !a.negative && y > x) [x, y] = [y, x];
    const answer = op === '+' ? x + y : op === '-' ? x - y : x * y;
    rows.push({ id: `${prefix}${i}`, question: `${x}${op}${y}`, answer, info: { a: x, b: y, op } });
  }
  return rows;
}

/** Single-turn arithmetic with an XML `<answer>`, rewarded by numeric equality. */
export function loadEnvironment(args: Record<string, unknown> = {}): SingleTurnEnv {
  const a = parseEnvArgs({ env: 'arithmetic', schema: ArithmeticArgs, args });
  const root = new Rng(a.seed);
  const trainRng = root.fork('train');
  const evalRng = root.fork('eval');
  const parser = arithmeticParser;
  const correct = ({ completion, answer }: { completion: ChatMessage[]; answer: unknown }) =>
    numericEqual(parser.parseAnswer(completion), answer as number);
  return singleTurnEnv({
    name: 'arithmetic',
    dataset: makeRows(a.count, trainRng, a, 'train-'),
    evalDataset: makeRows(a.evalCount, evalRng, a, 'eval-'),
    systemPrompt: a.systemPrompt ?? DEFAULT_SYSTEM,
    parser,
    rubric: rubric({
      funcs: [{ name: 'correct', fn: correct }, parser.formatRewardFunc({ weight: a.formatWeight })],
      parser,
    }),
    demonstrate: (example: Example, rng: Rng): ChatMessage[] => {
      let value = example.answer as number;
      if (a.demoErrorRate > 0 && rng.next() < a.demoErrorRate) value += rng.choice([-10, -2, -1, 1, 2, 10]);
      return [{ role: 'assistant', content: parser.format({ answer: value }) }];
    },
  });
}
