import {
  ConfigError,
  describeError,
  type ChatMessage,
  type Environment,
  type ErrorRecord,
  type Example,
  type Rng,
  type RolloutContext,
  type RolloutOutput,
  type Rubric,
  type Sampler,
  type SamplingArgs,
  type StopReason,
  type Turn,
} from '../core/index.js';
import { buildEnvDatasets, type EnvDatasetOptions } from '../envs/env-datasets.js';
import { AgentError } from './agent-error.js';
import { startAgentProxy, type AgentProxy, type UpstreamTarget } from './agent-proxy.js';
import { callsToTurns } from './calls-to-turns.js';

/** What the user's agent receives besides the task: where to send its OpenAI-compatible calls. */
export interface AgentContext {
  /** OpenAI-compatible base URL for this rollout (`http://127.0.0.1:<port>/rollouts/<id>/v1`). */
  baseURL: string;
  /** Any string works; the proxy does not check it. */
  apiKey: string;
  /** The model name to ask for (the proxy sends the upstream's own name anyway). */
  model: string;
  /** Aborted when the rollout times out or the run stops; pass it to your client. */
  signal: AbortSignal;
  /** The rollout id the proxy records calls under. */
  rolloutId: string;
}

/** A user agent: any async function that talks to `ctx.baseURL` with an OpenAI-compatible client. */
export type AgentFn<Output = unknown> = (task: Example, ctx: AgentContext) => Promise<Output>;

export interface AgentEnvOptions<Output = unknown> extends EnvDatasetOptions {
  name: string;
  /** The agent to run on every task. Its code needs nothing from keiko beyond `ctx`. */
  agent: AgentFn<Output>;
  /**
   * Scores the rollout. Reward functions see the agent's output as the last assistant message of
   * `completion` and as `state.output`, the recorded calls as `turns` and `state.calls`.
   */
  rubric: Rubric;
  parser?: unknown;
  /**
   * Where model calls go. Default: the rollout's sampler's base URL (an `OpenAISampler`, as the eval
   * and train commands use), with the sampler's model name.
   */
  upstream?: string | UpstreamTarget;
  /** Wall-clock limit per rollout in ms; past it the agent's signal is aborted and the rollout is recorded as an error. Default 10 minutes. */
  timeoutMs?: number;
  /**
   * Whether the run's sampling settings (temperature, max tokens, seed… from `keiko eval`/`train`)
   * replace the agent's own. Default true: the trainer decides how the policy samples.
   */
  overrideSampling?: boolean;
  /** A proxy to share (e.g. across environments). Default: one started on first use, on 127.0.0.1. */
  proxy?: AgentProxy;
  /** Turns the agent's output into the final assistant message. Default: strings as is, else JSON. */
  outputText?: (output: Output) => string;
  demonstrate?: (example: Example, rng: Rng) => ChatMessage[];
}

/** Rollout state an `AgentEnv` records (reward functions get it as `state`). */
export interface AgentState extends Record<string, unknown> {
  /** What the agent returned (undefined when it failed). */
  output: unknown;
  rolloutId: string;
  /** Recorded proxy calls (request, full response, timing). */
  calls: unknown[];
  /** How the calls line up as token sequences. */
  agent: ReturnType<typeof callsToTurns>['stats'];
  /** Calls that did not become turns or lack tokens, and why. */
  problems: { index: number; message: string }[];
  /** Set when the agent asked for more model calls than the rollout's turn budget allowed. */
  budgetExceeded?: boolean;
  /** What the agent threw after being cut off by the budget (the rollout is `truncated`, not an error). */
  agentError?: ErrorRecord;
}

/**
 * An environment around an agent you already have. Each rollout opens a session on keiko's
 * interception proxy, calls `agent(task, { baseURL, apiKey, model, signal })` with `baseURL` pointing
 * at that session, and turns every model call the agent made into a `Turn` with the exact token ids
 * and logprobs the sampler returned. The agent's return value becomes the final assistant message
 * and `state.output`; the rubric scores it and/or the turns. An agent that throws or runs past
 * `timeoutMs` is recorded on its rollout (`stopReason: 'error'`) and the run goes on.
 */
export class AgentEnv<Output = unknown> implements Environment {
  readonly name: string;
  readonly dataset: readonly Example[];
  readonly evalDataset?: readonly Example[];
  readonly rubric: Rubric;
  readonly parser?: unknown;
  private readonly options: AgentEnvOptions<Output>;
  private readonly timeoutMs: number;
  private proxyPromise: Promise<AgentProxy> | undefined;
  private ownsProxy = false;
  private rollouts = 0;

  constructor(options: AgentEnvOptions<Output>) {
    if (!options || typeof options !== 'object') throw new ConfigError('agentEnv options must be an object');
    if (typeof options.name !== 'string' || options.name === '') throw new ConfigError('agentEnv needs a non-empty `name`');
    if (typeof options.agent !== 'function') {
      throw new ConfigError(`agentEnv '${options.name}' needs \`agent\`: an async function (task, { baseURL, apiKey, model, signal }) => output`);
    }
    if (!options.rubric || typeof options.rubric.score !== 'function') {
      throw new ConfigError(`agentEnv '${options.name}' needs a rubric (e.g. rubric({ funcs: [...] }))`);
    }
    const timeoutMs = options.timeoutMs ?? 600_000;
    if (!(timeoutMs > 0)) throw new ConfigError(`agentEnv '${options.name}': timeoutMs must be positive, got ${timeoutMs}`);
    if (typeof options.upstream === 'string' && !URL.canParse(options.upstream)) {
      throw new ConfigError(`agentEnv '${options.name}': invalid upstream URL '${options.upstream}'; expected e.g. http://127.0.0.1:8000/v1`);
    }
    this.name = options.name;
    const { dataset, evalDataset } = buildEnvDatasets({ ...options, label: `agentEnv '${options.name}'` });
    this.dataset = dataset;
    if (evalDataset) this.evalDataset = evalDataset;
    this.rubric = options.rubric;
    if (options.parser !== undefined) this.parser = options.parser;
    if (options.demonstrate) this.demonstrate = options.demonstrate;
    this.options = options;
    this.timeoutMs = timeoutMs;
    if (options.proxy) this.proxyPromise = Promise.resolve(options.proxy);
  }

  demonstrate?(example: Example, rng: Rng): ChatMessage[];

  /** The proxy this environment records through (started on first use). */
  proxy(): Promise<AgentProxy> {
    if (!this.proxyPromise) {
      this.ownsProxy = true;
      this.proxyPromise = startAgentProxy();
    }
    return this.proxyPromise;
  }

  /** Stops the proxy if this environment started it. */
  async close(): Promise<void> {
    if (this.ownsProxy && this.proxyPromise) {
      const proxy = await this.proxyPromise;
      this.proxyPromise = undefined;
      this.ownsProxy = false;
      await proxy.close();
    }
  }

  async rollout(example: Example, ctx: RolloutContext): Promise<RolloutOutput> {
    const prompt = example.prompt.slice();
    const empty = (error: ErrorRecord): RolloutOutput => ({
      prompt,
      completion: [],
      turns: [],
      stopReason: 'error',
      state: {},
      usage: { promptTokens: 0, completionTokens: 0 },
      error,
    });
    let target: UpstreamTarget;
    let proxy: AgentProxy;
    try {
      target = this.upstreamFor(ctx.sampler, this.rollouts++);
      proxy = await this.proxy();
    } catch (error) {
      return empty(describeError(error));
    }
    const session = proxy.open({
      upstream: target,
      ...(this.options.overrideSampling === false ? {} : { sampling: runSampling(ctx.sampling) }),
      ...(ctx.budget?.maxTurns !== undefined ? { maxCalls: ctx.budget.maxTurns } : {}),
    });

    // The agent's signal: the rollout's own, or the time limit, whichever comes first.
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new AgentError('agent_timeout', `agent ran past the ${this.timeoutMs} ms time limit (timeoutMs)`)),
      this.timeoutMs,
    );
    const onOuterAbort = () => controller.abort(new AgentError('agent_aborted', 'rollout aborted: the run is stopping'));
    if (ctx.signal?.aborted) onOuterAbort();
    else ctx.signal?.addEventListener('abort', onOuterAbort, { once: true });

    let output: Output | undefined;
    let error: ErrorRecord | undefined;
    try {
      output = await runAgent(
        () => this.options.agent(example, { baseURL: session.baseURL, apiKey: 'keiko', model: target.model ?? ctx.sampler.model, signal: controller.signal, rolloutId: session.id }),
        controller.signal,
      );
    } catch (e) {
      error = describeError(
        e instanceof AgentError ? e : new AgentError('agent_error', `agent threw: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e }),
      );
    } finally {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onOuterAbort);
      if (!controller.signal.aborted) controller.abort(new AgentError('agent_aborted', 'rollout finished'));
    }
    // Calls still in flight after the agent returned or failed are aborted and recorded as failed.
    await session.close();

    const { turns, stats, usage, problems } = callsToTurns({ calls: session.calls, model: target.model ?? ctx.sampler.model });
    const completion = transcript(turns);
    if (error === undefined) {
      const text = this.options.outputText ? this.options.outputText(output as Output) : defaultOutputText(output);
      const last = completion.at(-1);
      if (!(last?.role === 'assistant' && last.content === text && !last.tool_calls?.length)) completion.push({ role: 'assistant', content: text });
    }
    const state: AgentState = { output, rolloutId: session.id, calls: session.calls, agent: stats, problems };
    let stopReason: StopReason = 'terminated';
    if (session.refusedCalls > 0) {
      // The turn budget cut the agent off: the outcome is unknown, whatever the agent did next.
      stopReason = 'truncated';
      state.budgetExceeded = true;
      if (error) state.agentError = error;
      error = undefined;
    } else if (error) stopReason = 'error';
    else if (turns.at(-1)?.finishReason === 'length') stopReason = 'truncated';
    return { prompt, completion, turns, stopReason, state, usage, ...(error ? { error } : {}) };
  }

  private upstreamFor(sampler: Sampler, rolloutIndex: number): UpstreamTarget {
    const configured = this.options.upstream;
    if (typeof configured === 'string') return { baseUrl: configured, model: sampler.model };
    if (configured) return { model: sampler.model, ...configured };
    const urls = sampler.baseUrls ?? [];
    if (urls.length > 0) return { baseUrl: urls[rolloutIndex % urls.length]!, model: sampler.model };
    throw new ConfigError(
      `agentEnv '${this.name}': the rollout's sampler (${sampler.constructor?.name ?? 'unknown'}) has no HTTP base URL for the proxy to forward to; use an OpenAI-compatible sampler or pass agentEnv({ upstream: 'http://…/v1' })`,
    );
  }
}

/** Builds an `AgentEnv`: `agentEnv({ name, dataset, agent, rubric })`. */
export function agentEnv<Output = unknown>(options: AgentEnvOptions<Output>): AgentEnv<Output> {
  return new AgentEnv(options);
}

/** The run's sampling args the proxy imposes (`returnTokens` is implied: the proxy always asks). */
function runSampling(sampling: SamplingArgs): SamplingArgs {
  const { returnTokens: _unused, ...rest } = sampling;
  return rest;
}

/** Runs the agent, giving up (without waiting for it) once `signal` aborts. */
function runAgent<T>(agent: () => Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    let running: Promise<T>;
    try {
      running = Promise.resolve(agent());
    } catch (error) {
      signal.removeEventListener('abort', onAbort);
      return reject(error as Error);
    }
    running.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

function defaultOutputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (output === undefined || output === null) return '';
  try {
    return JSON.stringify(output) ?? String(output);
  } catch {
    return String(output);
  }
}

/**
 * The conversation the agent had, after its first prompt: when the last call's prompt continues the
 * first one, the messages it added plus the last reply; otherwise every reply in order.
 */
function transcript(turns: readonly Turn[]): ChatMessage[] {
  const first = turns[0];
  const last = turns.at(-1);
  if (!first || !last) return [];
  if (last.prompt.length >= first.prompt.length && sameMessages(first.prompt, last.prompt)) {
    return [...last.prompt.slice(first.prompt.length), last.completion];
  }
  return turns.map((t) => t.completion);
}

function sameMessages(prefix: readonly ChatMessage[], messages: readonly ChatMessage[]): boolean {
  for (let i = 0; i < prefix.length; i++) {
    if (prefix[i]!.role !== messages[i]!.role || prefix[i]!.content !== messages[i]!.content) return false;
  }
  return true;
}
