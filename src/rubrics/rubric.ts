import { ConfigError, type Rubric, type ScoreInput, type Scores } from '../core/index.js';
import { toScore, type GroupRewardFn, type RewardEntry, type RewardFn } from './reward-function.js';

export interface RubricOptions<Parser = unknown> {
  /** Reward functions: plain functions (named by `fn.name`), `{ name, fn, weight }` or `{ name, groupFn, weight }`. */
  funcs: readonly RewardEntry<Parser>[];
  /** One weight per function, in order. Overrides per-entry weights. Default: 1 each (or the entry's weight). */
  weights?: readonly number[];
  /** Handed to functions as `parser` when the scorer did not supply one. */
  parser?: Parser;
}

interface Resolved<Parser> {
  name: string;
  weight: number;
  fn?: RewardFn<Parser>;
  groupFn?: GroupRewardFn<Parser>;
}

/**
 * A rubric of weighted reward functions. Each function receives one `ScoreInput` and destructures
 * what it needs; all run concurrently. A function that throws (or returns a non-number) scores 0
 * and its error is recorded. The reward is the weighted sum; weight 0 keeps a score as a metric only.
 */
export class FunctionRubric<Parser = unknown> implements Rubric {
  readonly needsGroup: boolean;
  readonly functionNames: readonly string[];
  readonly weights: readonly number[];
  private readonly entries: readonly Resolved<Parser>[];
  private readonly parser: Parser | undefined;

  constructor(options: RubricOptions<Parser>) {
    this.entries = resolveEntries(options);
    this.parser = options.parser;
    this.functionNames = this.entries.map((e) => e.name);
    this.weights = this.entries.map((e) => e.weight);
    this.needsGroup = this.entries.some((e) => e.groupFn !== undefined);
  }

  async score(input: ScoreInput): Promise<Scores> {
    if (this.needsGroup) return (await this.scoreGroup([input]))[0]!;
    const typed = this.withParser(input);
    const results = await Promise.all(this.entries.map((e) => runOne(e.fn!, typed)));
    return this.combine(results);
  }

  async scoreGroup(inputs: ScoreInput[]): Promise<Scores[]> {
    const typed = inputs.map((i) => this.withParser(i));
    // [F][N]: one column of outcomes per function
    const columns = await Promise.all(
      this.entries.map((e) =>
        e.groupFn ? runGroup(e.name, e.groupFn, typed) : Promise.all(typed.map((t) => runOne(e.fn!, t))),
      ),
    );
    return typed.map((_, i) => this.combine(columns.map((col) => col[i]!)));
  }

  private withParser(input: ScoreInput): ScoreInput<Parser> {
    const parser = (input.parser ?? this.parser) as Parser;
    return { ...input, parser };
  }

  private combine(outcomes: readonly Outcome[]): Scores {
    let reward = 0;
    const metrics: Record<string, number> = {};
    let errors: Record<string, string> | undefined;
    outcomes.forEach((o, i) => {
      const entry = this.entries[i]!;
      metrics[entry.name] = o.score;
      reward += entry.weight * o.score;
      if (o.error !== undefined) (errors ??= {})[entry.name] = o.error;
    });
    return errors ? { reward, metrics, errors } : { reward, metrics };
  }
}

/** Builds a `FunctionRubric`: `rubric({ funcs: [correct, format], weights: [1, 0.2] })`. */
export function rubric<Parser = unknown>(options: RubricOptions<Parser>): FunctionRubric<Parser> {
  return new FunctionRubric(options);
}

interface Outcome {
  score: number;
  error?: string;
}

async function runOne<P>(fn: RewardFn<P>, input: ScoreInput<P>): Promise<Outcome> {
  try {
    return { score: toScore(await fn(input)) };
  } catch (error) {
    return { score: 0, error: errorText(error) };
  }
}

async function runGroup<P>(name: string, fn: GroupRewardFn<P>, inputs: ScoreInput<P>[]): Promise<Outcome[]> {
  try {
    const values = await fn(inputs);
    if (!Array.isArray(values) || values.length !== inputs.length) {
      throw new TypeError(
        `group function '${name}' returned ${Array.isArray(values) ? values.length : typeof values} scores for ${inputs.length} rollouts; return one score per rollout`,
      );
    }
    return values.map((v) => {
      try {
        return { score: toScore(v) };
      } catch (error) {
        return { score: 0, error: errorText(error) };
      }
    });
  } catch (error) {
    const message = errorText(error);
    return inputs.map(() => ({ score: 0, error: message }));
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function resolveEntries<P>(options: RubricOptions<P>): Resolved<P>[] {
  const { funcs, weights } = options;
  if (!Array.isArray(funcs) || funcs.length === 0) {
    throw new ConfigError('rubric needs at least one reward function in `funcs`');
  }
  if (weights !== undefined && weights.length !== funcs.length) {
    throw new ConfigError(
      `rubric has ${funcs.length} functions but ${weights.length} weights; give one weight per function (or omit \`weights\` for 1 each)`,
    );
  }
  const seen = new Set<string>();
  return funcs.map((entry, i) => {
    let resolved: Resolved<P>;
    if (typeof entry === 'function') {
      resolved = { name: entry.name, weight: 1, fn: entry };
    } else if (entry && typeof entry === 'object' && 'groupFn' in entry && typeof entry.groupFn === 'function') {
      resolved = { name: entry.name ?? entry.groupFn.name, weight: entry.weight ?? 1, groupFn: entry.groupFn };
    } else if (entry && typeof entry === 'object' && 'fn' in entry && typeof entry.fn === 'function') {
      resolved = { name: entry.name ?? entry.fn.name, weight: entry.weight ?? 1, fn: entry.fn };
    } else {
      throw new ConfigError(`rubric function #${i} is not a function, { fn } or { groupFn }`);
    }
    if (weights !== undefined) resolved.weight = weights[i]!;
    if (!resolved.name) {
      throw new ConfigError(
        `rubric function #${i} has no name; use a named function or pass { name: '...', fn }`,
      );
    }
    if (seen.has(resolved.name)) {
      throw new ConfigError(`rubric has two functions named '${resolved.name}'; give each a distinct name`);
    }
    if (typeof resolved.weight !== 'number' || !Number.isFinite(resolved.weight)) {
      throw new ConfigError(`rubric function '${resolved.name}' has weight ${String(resolved.weight)}; weights must be finite numbers`);
    }
    seen.add(resolved.name);
    return resolved;
  });
}
