import { describeError } from '../core/errors.js';
import type { Environment, Example, RolloutOutput, ScoreInput, Scores } from '../core/environment.js';

/** Builds the input reward functions see for one finished rollout. */
export function scoreInput(env: Environment, example: Example, output: RolloutOutput): ScoreInput {
  return {
    prompt: output.prompt,
    completion: output.completion,
    answer: example.answer,
    info: example.info ?? {},
    task: example.task,
    state: output.state,
    turns: output.turns,
    stopReason: output.stopReason,
    parser: env.parser,
  };
}

/** Scores of a rollout that failed before it could be judged: reward 0, every function 0. */
export function failedScores(env: Environment): Scores {
  const metrics: Record<string, number> = {};
  for (const name of env.rubric.functionNames) metrics[name] = 0;
  return { reward: 0, metrics };
}

/**
 * Scores one rollout. Failed rollouts (`stopReason: 'error'`) get `failedScores` without calling the
 * rubric; a rubric that throws scores 0 and the error lands in `errors.rubric`.
 */
export async function scoreOne(env: Environment, example: Example, output: RolloutOutput): Promise<Scores> {
  if (output.stopReason === 'error') return failedScores(env);
  try {
    return await env.rubric.score(scoreInput(env, example, output));
  } catch (error) {
    return { ...failedScores(env), errors: { rubric: describeError(error).message } };
  }
}

/**
 * Scores all rollouts of one example together (for group-level reward functions). Failed rollouts are
 * left out of the group and get `failedScores`.
 */
export async function scoreGroup(env: Environment, example: Example, outputs: readonly RolloutOutput[]): Promise<Scores[]> {
  const live = outputs.map((o, i) => ({ o, i })).filter(({ o }) => o.stopReason !== 'error');
  const scores: Scores[] = outputs.map(() => failedScores(env));
  if (live.length === 0) return scores;
  try {
    const got = await env.rubric.scoreGroup(live.map(({ o }) => scoreInput(env, example, o)));
    live.forEach(({ i }, j) => {
      scores[i] = got[j] ?? { ...failedScores(env), errors: { rubric: `scoreGroup returned ${got.length} scores for ${live.length} rollouts` } };
    });
  } catch (error) {
    const message = describeError(error).message;
    for (const { i } of live) scores[i] = { ...failedScores(env), errors: { rubric: message } };
  }
  return scores;
}
