import { z } from 'zod';
import { Rng, type ChatMessage, type Example, type ScoreInput } from '../../src/core/index.js';
import { multiTurnEnv, parseEnvArgs, type MultiTurnEnv } from '../../src/envs/index.js';
import { XMLParser, rubric } from '../../src/rubrics/index.js';

/** Arguments of the `guess-number` environment (all optional). */
export const GuessNumberArgs = z.object({
  /** Secrets are drawn from 1…max. */
  max: z.number().int().min(2).max(1_000_000).default(16),
  /** Guesses allowed. Default: enough for binary search plus one. */
  maxTurns: z.number().int().min(1).optional(),
  count: z.number().int().min(0).default(500),
  evalCount: z.number().int().min(0).default(50),
  seed: z.number().int().default(0),
  /** Probability per guess that `demonstrate` guesses at random inside the known range instead of halving it. */
  demoErrorRate: z.number().min(0).max(1).default(0),
  systemPrompt: z.string().optional(),
});
export type GuessNumberArgs = z.input<typeof GuessNumberArgs>;

const parser = new XMLParser({ fields: ['guess'] });

/** Guesses in the order made (NaN for a message without a readable guess). */
function guesses(completion: readonly ChatMessage[]): number[] {
  return completion
    .filter((m) => m.role === 'assistant')
    .map((m) => {
      const g = parser.parseAnswer(m.content ?? '');
      return g !== undefined && /^-?\d+$/.test(g) ? Number(g) : Number.NaN;
    });
}

/** The environment's reply to one guess; `demonstrate` uses the same words. */
export function feedback(guess: number, secret: number, max: number): string {
  if (Number.isNaN(guess)) return 'Reply <guess>N</guess>.';
  if (guess < 1 || guess > max) return `Out of range 1-${max}.`;
  if (guess < secret) return 'higher';
  if (guess > secret) return 'lower';
  return 'correct';
}

interface GuessState extends Record<string, unknown> {
  guesses: number[];
  done: boolean;
  solved: boolean;
}

/**
 * Guess-the-number with higher/lower feedback: a multi-turn game with a verifiable outcome. The
 * reward is 1 when the model names the secret within `maxTurns` guesses; `efficiency` (fewer
 * guesses is better) and `format` are metrics.
 */
export function loadEnvironment(args: Record<string, unknown> = {}): MultiTurnEnv<GuessState> {
  const a = parseEnvArgs({ env: 'guess-number', schema: GuessNumberArgs, args });
  const maxTurns = a.maxTurns ?? Math.ceil(Math.log2(a.max + 1)) + 1;
  const root = new Rng(a.seed);
  const rows = (n: number, rng: Rng, prefix: string) =>
    Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, question: `1-${a.max}`, answer: rng.int(1, a.max) }));
  const solvedAt = (completion: readonly ChatMessage[], secret: number) => guesses(completion).indexOf(secret);
  return multiTurnEnv<GuessState>({
    name: 'guess-number',
    dataset: rows(a.count, root.fork('train'), 'train-'),
    evalDataset: rows(a.evalCount, root.fork('eval'), 'eval-'),
    systemPrompt: a.systemPrompt ?? 'Guess my number. Reply <guess>N</guess>. I say higher, lower or correct.',
    maxTurns,
    parser,
    setupState: ({ state }) => {
      state.guesses = [];
      state.done = false;
      state.solved = false;
    },
    envResponse: ({ messages, state, example }) => {
      const g = guesses([messages[messages.length - 1]!])[0]!;
      state.guesses.push(g);
      const reply = feedback(g, example.answer as number, a.max);
      if (reply === 'correct') state.done = state.solved = true;
      return reply;
    },
    rubric: rubric({
      funcs: [
        { name: 'solved', fn: ({ completion, answer }: ScoreInput) => solvedAt(completion, answer as number) >= 0, weight: 1 },
        {
          name: 'efficiency',
          fn: ({ completion, answer }: ScoreInput) => {
            const at = solvedAt(completion, answer as number);
            return at < 0 ? 0 : 1 - at / maxTurns;
          },
          weight: 0,
        },
        parser.formatRewardFunc({ weight: 0 }),
      ],
      parser,
    }),
    demonstrate: (example: Example, rng: Rng): ChatMessage[] => {
      const secret = example.answer as number;
      const out: ChatMessage[] = [];
      let lo = 1;
      let hi = a.max;
      for (let turn = 0; turn < maxTurns; turn++) {
        const g = a.demoErrorRate > 0 && rng.next() < a.demoErrorRate ? rng.int(lo, hi) : Math.floor((lo + hi) / 2);
        out.push({ role: 'assistant', content: parser.format({ guess: g }) });
        const reply = feedback(g, secret, a.max);
        out.push({ role: 'user', content: reply });
        if (reply === 'correct') break;
        if (reply === 'higher') lo = g + 1;
        else hi = g - 1;
      }
      return out;
    },
  });
}
