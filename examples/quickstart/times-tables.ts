// The README's quickstart: an environment and a rubric in a few lines, evaluated with `keiko eval`.
import { XMLParser, numericEqual, rubric, singleTurnEnv } from 'keiko';

const parser = new XMLParser({ fields: ['think', 'answer'] });

export function loadEnvironment(args: { count?: number } = {}) {
  const count = args.count ?? 20;
  const rows = Array.from({ length: count }, (_, i) => {
    const a = 2 + (i % 8), b = 3 + ((i * 5) % 7);
    return { id: i, question: `What is ${a} * ${b}?`, answer: a * b };
  });
  return singleTurnEnv({
    name: 'times-tables',
    dataset: rows,
    systemPrompt: 'Think in <think>…</think>, then reply <answer>N</answer>.',
    parser,
    rubric: rubric({
      funcs: [
        // Reward functions destructure only what they need.
        function correct({ completion, answer }) {
          return numericEqual(parser.parseAnswer(completion), answer as number);
        },
        { name: 'format', fn: ({ completion }) => parser.formatReward(completion), weight: 0.2 },
      ],
    }),
  });
}
