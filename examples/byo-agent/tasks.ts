// Shared by the three example environments: arithmetic tasks that invite a calculator tool, and a
// rubric that scores the agent's final answer.
import { Rng } from '../../src/core/rng.js';
import { lastAssistantText } from '../../src/core/messages.js';
import { agentMetrics } from '../../src/proxy/agent-metrics.js';
import { rubric } from '../../src/rubrics/rubric.js';

/** Deterministic "What is a + b?" rows (`question`, `answer`), drawn from `seed`. */
export function additionTasks(options: { count: number; seed: number }): { id: string; question: string; answer: string }[] {
  const rng = new Rng(options.seed);
  return Array.from({ length: options.count }, (_, i) => {
    const a = rng.int(1, 99);
    const b = rng.int(1, 99);
    return { id: `add-${options.seed}-${i}`, question: `What is ${a} + ${b}? Use the add tool, then answer with the number.`, answer: String(a + b) };
  });
}

/**
 * `correct` (weight 1): the last number in the agent's final answer equals the reference.
 * `digits` (weight 0.1): share of the answer's characters that are digits — a shaping signal that
 * even a tiny random model gets some variance on, so GRPO has something to learn from.
 * Plus metric-only entries (weight 0) showing how the agent's calls pack into token sequences.
 */
export const additionRubric = rubric({
  funcs: [
    {
      name: 'correct',
      weight: 1,
      fn: ({ completion, answer }) => {
        const numbers = lastAssistantText(completion).match(/-?\d+/g);
        return numbers !== null && numbers.at(-1) === String(answer);
      },
    },
    {
      name: 'digits',
      weight: 0.1,
      fn: ({ completion }) => {
        const text = lastAssistantText(completion);
        return text.length === 0 ? 0 : (text.match(/\d/g)?.length ?? 0) / text.length;
      },
    },
    ...agentMetrics(),
  ],
});

/** Reads an integer env arg with a default, e.g. `--env-args '{"count": 8}'`. */
export function intArg(args: Record<string, unknown>, name: string, fallback: number): number {
  const value = args[name];
  return typeof value === 'number' && Number.isInteger(value) ? value : fallback;
}
