import { z } from 'zod';
import { Rng, type ChatMessage, type Example, type ScoreInput } from '../../src/core/index.js';
import { defineTool, parseEnvArgs, successfulToolCalls, toolEnv, type ToolEnv } from '../../src/envs/index.js';
import { XMLParser, numericEqual, rubric } from '../../src/rubrics/index.js';
import { evaluateExpression, formatResult } from './expression.js';

/** Arguments of the `calculator` environment (all optional). */
export const CalculatorArgs = z.object({
  /** Operand size in digits. */
  digits: z.number().int().min(1).max(6).default(3),
  /** Operands per expression. */
  terms: z.number().int().min(2).max(5).default(2),
  /** Operators to draw from. */
  ops: z.string().regex(/^[+\-*]+$/, "use any of the characters '+', '-', '*'").default('+-*'),
  count: z.number().int().min(0).default(1000),
  evalCount: z.number().int().min(0).default(100),
  seed: z.number().int().default(0),
  /** Model turns per rollout. */
  maxTurns: z.number().int().min(2).default(4),
  /** Accept `<tool_call>{…}</tool_call>` text (for models without server-side tool parsing). */
  textToolCalls: z.boolean().default(false),
  /** Probability that `demonstrate` gives a wrong final answer. */
  demoErrorRate: z.number().min(0).max(1).default(0),
  systemPrompt: z.string().optional(),
});
export type CalculatorArgs = z.input<typeof CalculatorArgs>;

/** The calculator tool: evaluates an arithmetic expression. */
export const calculateTool = defineTool({
  name: 'calculate',
  description: 'Evaluate an arithmetic expression with + - * / and parentheses.',
  parameters: z.object({ expression: z.string().describe('e.g. 12*(3+4)') }),
  execute: ({ expression }) => formatResult(evaluateExpression(expression)),
});

const parser = new XMLParser({ fields: ['answer'] });

function makeRows(n: number, rng: Rng, a: z.infer<typeof CalculatorArgs>, prefix: string) {
  const hi = 10 ** a.digits - 1;
  const lo = a.digits === 1 ? 0 : 10 ** (a.digits - 1);
  return Array.from({ length: n }, (_, i) => {
    let expression = String(rng.int(lo, hi));
    for (let t = 1; t < a.terms; t++) expression += rng.choice([...a.ops]) + String(rng.int(lo, hi));
    return { id: `${prefix}${i}`, question: expression, answer: evaluateExpression(expression), info: { expression } };
  });
}

/**
 * Multi-digit arithmetic the model should not do in its head: it must call `calculate` and answer
 * `<answer>N</answer>`. The reward needs both a correct answer and a successful tool call;
 * `correct` and `tool_used` are reported separately as metrics.
 */
export function loadEnvironment(args: Record<string, unknown> = {}): ToolEnv {
  const a = parseEnvArgs({ env: 'calculator', schema: CalculatorArgs, args });
  const root = new Rng(a.seed);
  const correct = ({ completion, answer }: ScoreInput) => numericEqual(parser.parseAnswer(completion), answer as number);
  const toolUsed = ({ completion }: ScoreInput) => successfulToolCalls(completion).includes('calculate');
  const system =
    a.systemPrompt ??
    (a.textToolCalls
      ? 'Call <tool_call>{"name":"calculate","arguments":{"expression":"..."}}</tool_call>, then reply <answer>N</answer>.'
      : 'Use the calculate tool, then reply <answer>N</answer>.');
  return toolEnv({
    name: 'calculator',
    dataset: makeRows(a.count, root.fork('train'), a, 'train-'),
    evalDataset: makeRows(a.evalCount, root.fork('eval'), a, 'eval-'),
    systemPrompt: system,
    tools: [calculateTool],
    textToolCalls: a.textToolCalls,
    maxTurns: a.maxTurns,
    parser,
    rubric: rubric({
      funcs: [
        { name: 'correct_with_tool', fn: (i) => correct(i) && toolUsed(i), weight: 1 },
        { name: 'correct', fn: correct, weight: 0 },
        { name: 'tool_used', fn: toolUsed, weight: 0 },
        parser.formatRewardFunc({ weight: 0 }),
      ],
      parser,
    }),
    demonstrate: (example: Example, rng: Rng): ChatMessage[] => {
      const expression = String(example.info['expression']);
      const result = formatResult(evaluateExpression(expression));
      let final = Number(result);
      if (a.demoErrorRate > 0 && rng.next() < a.demoErrorRate) final += rng.choice([-10, -1, 1, 10]);
      const argsJson = JSON.stringify({ expression });
      const answer: ChatMessage = { role: 'assistant', content: parser.format({ answer: formatResult(final) }) };
      if (a.textToolCalls) {
        return [
          { role: 'assistant', content: `<tool_call>{"name":"calculate","arguments":${argsJson}}</tool_call>` },
          { role: 'user', content: `<tool_response>${result}</tool_response>` },
          answer,
        ];
      }
      return [
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'calculate', arguments: argsJson } }] },
        { role: 'tool', tool_call_id: 'call_0', name: 'calculate', content: result },
        answer,
      ];
    },
  });
}
