import { z } from 'zod';
import { Rng, type ChatMessage, type Example } from '../../src/core/index.js';
import { parseEnvArgs, singleTurnEnv, type SingleTurnEnv } from '../../src/envs/index.js';
import { rubric } from '../../src/rubrics/index.js';

/**
 * Long addition with a careless teacher: the environment of `keiko train`'s default job and of the
 * "beyond imitation" example (examples/beyond-imitation/RESULTS.md).
 *
 * A task is `a + b` for two `digits`-digit numbers. With `layout = 'sums'` (default) it is given
 * the way one adds on paper, as its column sums, units column first, two digits each: 347 + 582
 * has column sums 7+2=9, 4+8=12, 3+5=8, written "091208". The model answers with the `digits + 1`
 * digits of the total, units first ("9290"), the order in which carries happen. What is left to do
 * is exactly the carrying. With `layout = 'digits'` the task is written "347+582" (the model must
 * also add digit pairs mod 10 — a task tiny models learn far more slowly; see RESULTS.md). The
 * reward is 1 when the answer is the exact total, else 0: a verifiable outcome that needs no teacher.
 *
 * The teacher (`demonstrate`) is careless in one systematic way, its `slip`. With `units-carry`
 * (default) it forgets the carry out of the units column on a share `carelessRate` of its
 * demonstrations (default 90%): 347 + 585 = 932 comes out as 922. It carries everywhere else, so it
 * is right on every task without a units carry (55% of them) and about 60% overall. Because the
 * slip is one decision at one digit, a model can imitate it exactly, and a model that imitates it
 * greedily makes the teacher's mistake every time. With `every-carry` it forgets every carry on a
 * share `carelessRate` of demonstrations (the earlier setting: imitating it exactly means inferring,
 * from earlier digits, which of two modes a demonstration is in; see RESULTS.md).
 *
 * No system prompt: every prompt token is context a tiny model must learn to ignore.
 */
export const ColumnAdditionArgs = z.object({
  /** Digits per operand. */
  digits: z.number().int().min(1).max(8).default(3),
  /** Training tasks (distinct prompts; fewer when the task space runs out). */
  count: z.number().int().min(1).default(4000),
  /** Held-out tasks in `evalDataset`: the validation split (watched during training) or the test split. */
  evalCount: z.number().int().min(1).default(200),
  /** Which held-out split `evalDataset` holds. Test tasks are only ever scored at the very end. */
  evalSplit: z.enum(['validation', 'test']).default('validation'),
  /** The teacher's mistake: forget the carry out of the units column, or every carry. */
  slip: z.enum(['units-carry', 'every-carry']).default('units-carry'),
  /** Share of demonstrations in which the teacher slips. */
  carelessRate: z.number().min(0).max(1).default(0.9),
  /** How a task is written: its column sums ("091208") or the two numbers ("347+582"). */
  layout: z.enum(['sums', 'digits']).default('sums'),
  seed: z.number().int().default(0),
});
export type ColumnAdditionArgs = z.input<typeof ColumnAdditionArgs>;

interface Task {
  a: number;
  b: number;
}

const digitAt = (n: number, i: number): number => Math.floor(n / 10 ** i) % 10;

/** `a + b` as column sums, units column first, two digits each: 347 + 582 → "091208". */
export function writeColumnSums(a: number, b: number, digits: number): string {
  let out = '';
  for (let i = 0; i < digits; i++) out += String(digitAt(a, i) + digitAt(b, i)).padStart(2, '0');
  return out;
}

/** `a + b` as two zero-padded numbers: "347+582". */
export function writeNumbers(a: number, b: number, digits: number): string {
  return `${String(a).padStart(digits, '0')}+${String(b).padStart(digits, '0')}`;
}

/** The total as the model should write it: `width` digits, least significant first. */
export function writeReversedSum(sum: number, width: number): string {
  return String(sum).padStart(width, '0').split('').reverse().join('');
}

export type Slip = 'units-carry' | 'every-carry';

/**
 * The total a teacher writes when it slips: without the carry out of the units column (`units-carry`:
 * 10 less when the units digits add up to 10 or more), or with every carry forgotten (`every-carry`:
 * each column's digit sum mod 10, no carry digit).
 */
export function carelessSum(a: number, b: number, digits: number, slip: Slip = 'units-carry'): number {
  if (slip === 'units-carry') return digitAt(a, 0) + digitAt(b, 0) >= 10 ? a + b - 10 : a + b;
  let out = 0;
  for (let i = 0; i < digits; i++) out += ((digitAt(a, i) + digitAt(b, i)) % 10) * 10 ** i;
  return out;
}

/**
 * Reads a model answer: digits (whitespace allowed between them), last digit first. Returns the
 * number, or `undefined` when the text is anything else (empty, letters, more than `maxDigits` digits).
 */
export function readReversedSum(text: string, maxDigits: number): number | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!/^\d+$/.test(compact) || compact.length > maxDigits) return undefined;
  return Number(compact.split('').reverse().join(''));
}

/**
 * What kind of answer `text` is to `a + b`: the exact total, the careless teacher's total (its
 * slip), or anything else.
 */
export function answerKind(text: string, a: number, b: number, digits: number, slip: Slip = 'units-carry'): 'correct' | 'careless' | 'other' {
  const value = readReversedSum(text, digits + 1);
  if (value === a + b) return 'correct';
  return value === carelessSum(a, b, digits, slip) ? 'careless' : 'other';
}

function drawTasks(options: { n: number; rng: Rng; digits: number; exclude: Set<string>; key: (t: Task) => string }): Task[] {
  const hi = 10 ** options.digits - 1;
  const out: Task[] = [];
  // Rejection keeps the splits disjoint by prompt text (different a, b can share column sums), so
  // no held-out prompt is ever trained on. Returns fewer than `n` when the prompts run out.
  for (let guard = 0; out.length < options.n && guard < options.n * 50; guard++) {
    const t = { a: options.rng.int(0, hi), b: options.rng.int(0, hi) };
    const key = options.key(t);
    if (options.exclude.has(key)) continue;
    options.exclude.add(key);
    out.push(t);
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
  const question = (t: Task) => (a.layout === 'sums' ? writeColumnSums(t.a, t.b, a.digits) : writeNumbers(t.a, t.b, a.digits));
  const draw = (n: number, rng: Rng) => drawTasks({ n, rng, digits: a.digits, exclude: seen, key: question });
  // Held-out splits are drawn first so their size never depends on the training count.
  const test = draw(a.evalCount, testRng);
  const validation = draw(a.evalCount, validationRng);
  const train = draw(a.count, trainRng);
  const width = a.digits + 1;
  const toRow = (prefix: string) => (t: Task, i: number) => ({
    id: `${prefix}-${i}`,
    question: question(t),
    answer: t.a + t.b,
    // `slips`: the teacher's slip changes this task's answer (for `units-carry`: the units carry).
    info: { a: t.a, b: t.b, slips: t.a + t.b !== carelessSum(t.a, t.b, a.digits, a.slip) },
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
    rubric: rubric({ funcs: [{ name: 'correct', fn: correct }, { name: 'format', fn: wellFormed, weight: 0 }] }),
    demonstrate: (example: Example, rng: Rng): ChatMessage[] => {
      const { a: x, b: y } = example.info as { a: number; b: number };
      const sum = rng.next() < a.carelessRate ? carelessSum(x, y, a.digits, a.slip) : x + y;
      return [{ role: 'assistant', content: writeReversedSum(sum, width) }];
    },
  });
}
