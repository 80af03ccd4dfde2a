import { Rng, type ChatMessage, type Environment, type Example, type ScoreInput, type Scores } from '../src/core/index.js';
import { ScriptedSampler } from '../src/testing/index.js';

/**
 * Plays an environment's own demonstration back through a real rollout: a scripted sampler answers
 * with the demonstration's assistant messages in order, the environment produces its replies, and
 * the result is scored. Used by the built-in environments' tests (a correct solver must score 1, and
 * the environment must reply exactly as the demonstration says it would).
 */
export async function replayDemonstration(options: {
  env: Environment;
  example: Example;
  rng?: Rng;
}): Promise<{ demo: ChatMessage[]; completion: ChatMessage[]; scores: Scores; stopReason: string; sampler: ScriptedSampler }> {
  const { env, example } = options;
  const demo = env.demonstrate!(example, options.rng ?? new Rng(0));
  const script = demo
    .filter((m): m is Extract<ChatMessage, { role: 'assistant' }> => m.role === 'assistant')
    .map((m) => ({ content: m.content, ...(m.tool_calls ? { tool_calls: m.tool_calls } : {}) }));
  const sampler = new ScriptedSampler({ script });
  const out = await env.rollout(example, { sampler, sampling: {}, rng: new Rng(1) });
  const input: ScoreInput = { ...out, answer: example.answer, info: example.info, task: example.task, parser: env.parser };
  return { demo, completion: out.completion, scores: await env.rubric.score(input), stopReason: out.stopReason, sampler };
}

/** Scores a completion for an example directly (no rollout). */
export function scoreCompletion(env: Environment, example: Example, completion: ChatMessage[]): Promise<Scores> {
  return env.rubric.score({
    prompt: example.prompt, completion, answer: example.answer, info: example.info, task: example.task,
    state: {}, turns: [], stopReason: 'terminated', parser: env.parser,
  });
}
