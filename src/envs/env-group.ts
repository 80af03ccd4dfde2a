import {
  ConfigError,
  EnvError,
  describeError,
  unknownNameMessage,
  type ChatMessage,
  type Environment,
  type Example,
  type Rng,
  type RolloutContext,
  type RolloutOutput,
  type Rubric,
  type ScoreInput,
  type Scores,
  type ToolSchema,
} from '../core/index.js';

export interface EnvGroupOptions {
  /** Default 'group'. */
  name?: string;
  /** Environments by task name; each example is tagged with its task and ids become `<task>/<id>`. */
  envs: Readonly<Record<string, Environment>>;
}

/**
 * Mixes environments into one: the dataset is the concatenation of theirs (examples tagged with a
 * `task`), and rollouts, scoring and demonstrations are routed to the environment of each example's task.
 */
export class EnvGroup implements Environment {
  readonly name: string;
  readonly dataset: readonly Example[];
  readonly evalDataset?: readonly Example[];
  readonly rubric: Rubric;
  readonly tools?: readonly ToolSchema[];
  readonly envs: Readonly<Record<string, Environment>>;
  /** Group id → the sub-environment's own id. */
  private readonly originalIds = new Map<string, string | number>();

  constructor(options: EnvGroupOptions) {
    const envs = options?.envs;
    if (!envs || typeof envs !== 'object' || Object.keys(envs).length === 0) {
      throw new ConfigError('envGroup needs `envs`: an object of environments by task name, e.g. { math: mathEnv, wordle: wordleEnv }');
    }
    for (const [task, env] of Object.entries(envs)) {
      if (!env || typeof env.rollout !== 'function') throw new ConfigError(`envGroup: '${task}' is not an environment`);
      if (task.includes('/')) throw new ConfigError(`envGroup task name '${task}' must not contain '/'`);
    }
    this.name = options.name ?? 'group';
    this.envs = envs;
    const tag = (task: string, rows: readonly Example[]) =>
      rows.map((e) => {
        const id = `${task}/${e.id}`;
        this.originalIds.set(id, e.id);
        return { ...e, id, task };
      });
    this.dataset = Object.entries(envs).flatMap(([task, env]) => tag(task, env.dataset));
    if (Object.values(envs).some((e) => e.evalDataset)) {
      this.evalDataset = Object.entries(envs).flatMap(([task, env]) => tag(task, env.evalDataset ?? env.dataset));
    }
    const tools = new Map<string, ToolSchema>();
    for (const env of Object.values(envs)) for (const t of env.tools ?? []) tools.set(t.function.name, t);
    if (tools.size) this.tools = [...tools.values()];
    this.rubric = new RoutedRubric(envs);
  }

  async rollout(example: Example, ctx: RolloutContext): Promise<RolloutOutput> {
    const routed = this.route(example);
    if (!routed) {
      const error = describeError(new EnvError(unknownNameMessage('task', String(example.task), Object.keys(this.envs))));
      return { prompt: example.prompt, completion: [], turns: [], stopReason: 'error', state: {}, usage: { promptTokens: 0, completionTokens: 0 }, error };
    }
    return routed.env.rollout(routed.example, ctx);
  }

  demonstrate(example: Example, rng: Rng): ChatMessage[] {
    const routed = this.route(example);
    if (!routed) throw new ConfigError(unknownNameMessage('task', String(example.task), Object.keys(this.envs)));
    if (!routed.env.demonstrate) throw new ConfigError(`environment for task '${example.task}' has no demonstrate()`);
    return routed.env.demonstrate(routed.example, rng);
  }

  private route(example: Example): { env: Environment; example: Example } | undefined {
    const task = example.task;
    if (task === undefined || !Object.hasOwn(this.envs, task)) return undefined;
    const id = this.originalIds.get(String(example.id)) ?? example.id;
    return { env: this.envs[task]!, example: { ...example, id } };
  }
}

/** Builds an `EnvGroup`: `envGroup({ envs: { arithmetic, guess } })`. */
export function envGroup(options: EnvGroupOptions): EnvGroup {
  return new EnvGroup(options);
}

/** Scores each rollout with the rubric (and parser) of its task's environment. */
class RoutedRubric implements Rubric {
  readonly needsGroup: boolean;
  readonly functionNames: readonly string[];

  constructor(private readonly envs: Readonly<Record<string, Environment>>) {
    this.needsGroup = Object.values(envs).some((e) => e.rubric.needsGroup);
    this.functionNames = [...new Set(Object.values(envs).flatMap((e) => e.rubric.functionNames))];
  }

  async score(input: ScoreInput): Promise<Scores> {
    const env = this.envFor(input.task);
    if (!env) return this.unknown(input.task);
    return env.rubric.score({ ...input, parser: env.parser ?? input.parser });
  }

  async scoreGroup(inputs: ScoreInput[]): Promise<Scores[]> {
    // A group shares one prompt, hence one task; route by the first and check the rest agree.
    const task = inputs[0]?.task;
    const env = this.envFor(task);
    if (!env || inputs.some((i) => i.task !== task)) return inputs.map((i) => this.unknown(i.task));
    const withParser = inputs.map((i) => ({ ...i, parser: env.parser ?? i.parser }));
    return env.rubric.needsGroup ? env.rubric.scoreGroup(withParser) : Promise.all(withParser.map((i) => env.rubric.score(i)));
  }

  private envFor(task: string | undefined): Environment | undefined {
    return task !== undefined && Object.hasOwn(this.envs, task) ? this.envs[task] : undefined;
  }

  private unknown(task: string | undefined): Scores {
    return { reward: 0, metrics: {}, errors: { task: unknownNameMessage('task', String(task), Object.keys(this.envs)) } };
  }
}
