import { z } from 'zod';
import { Rng, type ChatMessage, type Example } from '../../src/core/index.js';
import { parseEnvArgs, singleTurnEnv, type SingleTurnEnv } from '../../src/envs/index.js';
import { rubric } from '../../src/rubrics/index.js';

/**
 * Column addition with a careless teacher — the environment of the "beyond imitation" example.
 *
 * A task is `a + b` with both operands written as `digits` zero-padded digits separated by spaces
 * (" 0 4 7 + 5 8 2"); the model answers with the `digits + 1` digits of the sum written last digit
 * first (" 9 2 9 0"), the order in which a person adds columns and carries. The reward is 1 when the
 * answer is the exact sum, else 0: a verifiable outcome that needs no teacher.
 *
 * The teacher (`demonstrate`) is careless: on each demonstration, with probability
 * `carelessRate`, it forgets every carry. Sums without a carry are still right, so it is right on
 * about 60% of tasks at the default rate — and, unlike random noise, its mistakes are systematic,
 * so a model that imitates it learns the mistake.
 */
export const ColumnAdditionArgs = z.object({
  /** Digits per operand. */
  digits: z.number().int().min(1).max(8).default(3),
  /** Training tasks. */
  count: z.number().int().min(1).default(20000),
  /** Held-out tasks in `evalDataset`: the validation split (watched during training) or the test split. */
  evalCount: z.number().int().min(1).default(200),
  /** Which held-out split `evalDataset` holds. Test tasks are only ever scored at the very end. */
  evalSplit: z.enum(['validation', 'test']).default('validation'),
  /** Probability that a demonstration forgets every carry. */
  carelessRate: z.number().min(0).max(1).default(0.5),
  seed: z.number().int().default(0),
});
export type ColumnAdditionArgs = z.input<typeof ColumnAdditionArgs>;

/** The instruction every prompt starts with. */
export const SYSTEM_PROMPT = 'Add. Write the sum digit by digit, last digit first.';

interface Task {
  a: number;
  b: number;
}

// Every digit is written with a space before it, so each one is the same single token (" 7")
// wherever it appears — the byte-level tokenizer would otherwise give the first digit another id.
const spaced = (digits: string): string => digits.split('').map((d) => ` ${d}`).join('');

/** `n` as `width` zero-padded digits, most significant first, each after a space. */
export function writeOperand(n: number, width: number): string {
  return spaced(String(n).padStart(width, '0'));
}

/** The sum as the model should write it: `width` digits, least significant first. */
export function writeReversedSum(sum: number, width: number): string {
  return spaced(String(sum).padStart(width, '0').split('').reverse().join(''));
}

/** What a teacher who forgets every carry writes: each column's digit sum mod 10, no carry digit. */
export function carelessSum(a: number, b: number, digits: number): number {
  let out = 0;
  for (let i = 0, p = 1; i < digits; i++, p *= 10) out += ((Math.floor(a / p) % 10 + (Math.floor(b / p) % 10)) % 10) * p;
  return out;
}

/**
 * Reads a model answer: digits (spaces allowed between them), last digit first. Returns the number,
 * or `undefined` when the text is anything else (empty, letters, more than `maxDigits` digits).
 */
export function readReversedSum(text: string, maxDigits: number): number | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!/^\d+$/.test(compact) || compact.length > maxDigits) return undefined;
  return Number(compact.split('').reverse().join(''));
}

function drawTasks(options: { n: number; rng: Rng; digits: number; exclude: Set<string> }): Task[] {
  const hi = 10 ** options.digits - 1;
  const out: Task[] = [];
  // Rejection keeps the splits disjoint; the task space (10^(2·digits)) is far larger than any split.
  for (let guard = 0; out.length < options.n && guard < options.n * 50; guard++) {
    const a = options.rng.int(0, hi);
    const b = options.rng.int(0, hi);
    const key = `${a}+${b}`;
    if (options.exclude.has(key)) continue;
    options.exclude.add(key);
    out.push({ a, b });
  }
  return out;
}

/**
 * Loads the column-addition environment. Train, validation and test tasks are drawn from separate
 * seeded streams and are pairwise disjoint; `evalDataset` holds the split named by `evalSplit`.
 */
export function loadEnvironment(args: Record<string, unknown> = {}): SingleTurnEnv {
  const a = parseEnvArgs({ env: 'column-addition', schema: ColumnAdditionArgs, args });
  const root = new Rng(a.seed);
  const testRng = root.fork('test');
  const validationRng = root.fork('validation');
  const trainRng = root.fork('train');
  const seen = new Set<string>();
  // Held-out splits are drawn first so their size never depends on the training count.
  const test = drawTasks({ n: a.evalCount, rng: testRng, digits: a.digits, exclude: seen });
  const validation = drawTasks({ n: a.evalCount, rng: validationRng, digits: a.digits, exclude: seen });
  const train = drawTasks({ n: a.count, rng: trainRng, digits: a.digits, exclude: seen });
  const width = a.digits + 1;
  const toRow = (prefix: string) => (t: Task, i: number) => ({
    id: `${prefix}-${i}`,
    question: `${writeOperand(t.a, a.digits)} +${writeOperand(t.b, a.digits)}`,
    answer: t.a + t.b,
    info: { a: t.a, b: t.b, carries: t.a + t.b !== carelessSum(t.a, t.b, a.digits) },
  });
  const correct = ({ completion, answer }: { completion: ChatMessage[]; answer: unknown }): number => {
    const text = completion.filter((m) => m.role === 'assistant').at(-1)?.content ?? '';
    return readReversedSum(text, width) === answer ? 1 : 0;
  };
  const wellFormed = ({ completion }: { completion: ChatMessage[] }): number => {
    const text = completion.filter((m) => m.role === 'assistant').at(-1)?.content ?? '';
    return text.replace(/\s+/g, '').length === width && readReversedSum(text, width) !== undefined ? 1 : 0;
  };
  return singleTurnEnv({
    name: 'column-addition',
    dataset: train.map(toRow('train')),
    evalDataset: (a.evalSplit === 'test' ? test : validation).map(toRow(a.evalSplit)),
    systemPrompt: SYSTEM_PROMPT,
    rubric: rubric({ funcs: [{ name: 'correct', fn: correct }, { name: 'format', fn: wellFormed, weight: 0 }] }),
    demonstrate: (example: Example, rng: Rng): ChatMessage[] => {
      const { a: x, b: y } = example.info as { a: number; b: number };
      const sum = rng.next() < a.carelessRate ? carelessSum(x, y, a.digits) : x + y;
      return [{ role: 'assistant', content: writeReversedSum(sum, width) }];
    },
  });
}
