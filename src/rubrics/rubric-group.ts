import { ConfigError, type Rubric, type ScoreInput, type Scores } from '../core/index.js';

export interface RubricGroupOptions {
  rubrics: readonly Rubric[];
}

/**
 * Several rubrics scored together: the reward is the sum of their rewards, and metrics and errors
 * are merged (function names must be distinct across rubrics).
 */
export class RubricGroup implements Rubric {
  readonly needsGroup: boolean;
  readonly functionNames: readonly string[];
  readonly rubrics: readonly Rubric[];

  constructor(options: RubricGroupOptions) {
    const rubrics = options?.rubrics;
    if (!Array.isArray(rubrics) || rubrics.length === 0) throw new ConfigError('rubricGroup needs at least one rubric in `rubrics`');
    const names: string[] = [];
    for (const r of rubrics) {
      for (const n of r.functionNames) {
        if (names.includes(n)) throw new ConfigError(`function '${n}' appears in two rubrics of a rubricGroup; rename one`);
        names.push(n);
      }
    }
    this.rubrics = rubrics;
    this.functionNames = names;
    this.needsGroup = rubrics.some((r) => r.needsGroup);
  }

  async score(input: ScoreInput): Promise<Scores> {
    return merge(await Promise.all(this.rubrics.map((r) => r.score(input))));
  }

  async scoreGroup(inputs: ScoreInput[]): Promise<Scores[]> {
    const perRubric = await Promise.all(this.rubrics.map((r) => (r.needsGroup ? r.scoreGroup(inputs) : Promise.all(inputs.map((i) => r.score(i))))));
    return inputs.map((_, i) => merge(perRubric.map((scores) => scores[i]!)));
  }
}

/** Builds a `RubricGroup`: `rubricGroup({ rubrics: [correctness, judge] })`. */
export function rubricGroup(options: RubricGroupOptions): RubricGroup {
  return new RubricGroup(options);
}

function merge(parts: readonly Scores[]): Scores {
  let reward = 0;
  const metrics: Record<string, number> = {};
  let errors: Record<string, string> | undefined;
  for (const p of parts) {
    reward += p.reward;
    Object.assign(metrics, p.metrics);
    if (p.errors) errors = { ...errors, ...p.errors };
  }
  return errors ? { reward, metrics, errors } : { reward, metrics };
}
