import { z } from 'zod';
import {
  ConfigError,
  ToolSchema,
  formatZodError,
  safeParseJson,
  type Example,
  type Rng,
} from '../core/index.js';

/** What a tool sees besides its arguments: the rollout's state, example and rng. */
export interface ToolContext<S = Record<string, unknown>> {
  state: S;
  example: Example;
  rng: Rng;
  /**
   * Aborted when the rollout times out or the run stops. A tool doing slow work should pass it on
   * (fetch, child processes) or check it; keiko stops waiting for the tool either way.
   */
  signal?: AbortSignal;
}

type Shape<A extends z.ZodObject> = z.infer<A>;

export interface ToolOptions<A extends z.ZodObject, S = Record<string, unknown>> {
  /** 1-64 chars of [a-zA-Z0-9_-]. */
  name: string;
  description?: string;
  /** Argument schema; must be a `z.object` of JSON-representable types. */
  parameters: A;
  /**
   * Arguments injected from rollout state, hidden from the model: they are left out of the schema
   * the model sees, and any value the model sends for them is ignored.
   */
  hidden?: { [K in keyof Shape<A>]?: (ctx: ToolContext<S>) => Shape<A>[K] };
  /** Runs the tool. A string is returned to the model as is; anything else as JSON. */
  execute: (args: Shape<A>, ctx: ToolContext<S>) => unknown;
}

/** The outcome of one tool call, already phrased for the model. */
export type ToolCallOutcome =
  | { ok: true; content: string }
  | { ok: false; content: string; reason: 'invalid_json' | 'invalid_args' | 'tool_error' | 'unknown_tool' };

/** A tool ready for an environment: its OpenAI schema and a `call` that never throws. */
export interface Tool<S = Record<string, unknown>> {
  readonly name: string;
  readonly schema: ToolSchema;
  readonly hiddenArgs: readonly string[];
  call(rawArguments: string, ctx: ToolContext<S>): Promise<ToolCallOutcome>;
}

/** Prefix of every error message a tool call returns to the model. */
export const TOOL_ERROR_PREFIX = 'Error: ';

const ArgsObject = z.record(z.string(), z.unknown());

/**
 * Defines a tool from a zod argument schema and a function. Checks the name and schema now (with a
 * message naming the fix); at call time, bad JSON, wrong argument types and exceptions become
 * error messages for the model instead of failures.
 */
export function defineTool<A extends z.ZodObject, S = Record<string, unknown>>(options: ToolOptions<A, S>): Tool<S> {
  const { name, description, parameters, hidden = {}, execute } = options;
  const nameCheck = ToolSchema.shape.function.shape.name.safeParse(name);
  if (!nameCheck.success) throw new ConfigError(`invalid tool name '${String(name)}': tool names are 1-64 chars of [a-zA-Z0-9_-]`);
  if (!(parameters instanceof z.ZodObject) && isZod3(parameters)) {
    throw new ConfigError(`tool '${name}': parameters is a zod 3 schema; keiko needs zod 4 (npm install zod@^4, and import { z } from 'zod')`);
  }
  if (!(parameters instanceof z.ZodObject)) {
    throw new ConfigError(`tool '${name}': parameters must be a z.object({...}) of the tool's arguments`);
  }
  if (typeof execute !== 'function') throw new ConfigError(`tool '${name}' needs an execute function`);
  const keys = Object.keys(parameters.shape);
  const hiddenArgs = Object.keys(hidden);
  for (const h of hiddenArgs) {
    if (!keys.includes(h)) {
      throw new ConfigError(`tool '${name}': hidden argument '${h}' is not in its parameters (${keys.join(', ') || 'none'}); add it to parameters`);
    }
  }
  const mask = Object.fromEntries(hiddenArgs.map((k) => [k, true])) as Record<string, true>;
  const visible = hiddenArgs.length ? parameters.omit(mask) : parameters;
  let jsonSchema: Record<string, unknown>;
  try {
    jsonSchema = z.toJSONSchema(visible, { io: 'input' }) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(
      `tool '${name}': its parameters cannot be sent to a model as JSON Schema (${(error as Error).message}); use JSON types (string, number, boolean, enum, array, object) in the argument schema`,
      { cause: error },
    );
  }
  delete jsonSchema['$schema'];
  // Extra keys are stripped at call time; say so, as OpenAI's strict tool mode expects.
  jsonSchema['additionalProperties'] ??= false;
  const schema: ToolSchema = {
    type: 'function',
    function: { name, ...(description !== undefined ? { description } : {}), parameters: jsonSchema },
  };

  return {
    name,
    schema,
    hiddenArgs,
    async call(rawArguments, ctx) {
      const text = rawArguments.trim() === '' ? '{}' : rawArguments;
      const json = safeParseJson(text, ArgsObject);
      if (!json.success) {
        return fail('invalid_json', `tool '${name}' got arguments that are not a JSON object (${json.error}); send a JSON object matching its schema`);
      }
      const given = { ...json.data };
      for (const h of hiddenArgs) delete given[h];
      const checked = visible.safeParse(given);
      if (!checked.success) {
        return fail('invalid_args', `invalid arguments for tool '${name}': ${formatZodError(checked.error)}`);
      }
      let args: Shape<A>;
      try {
        const injected: Record<string, unknown> = {};
        for (const h of hiddenArgs) injected[h] = (hidden as Record<string, (c: ToolContext<S>) => unknown>)[h]!(ctx);
        const full = parameters.safeParse({ ...checked.data, ...injected });
        if (!full.success) throw new Error(`hidden arguments are invalid: ${formatZodError(full.error)}`);
        args = full.data as Shape<A>;
      } catch (error) {
        return fail('tool_error', `tool '${name}' failed: ${errorText(error)}`);
      }
      try {
        const result = await execute(args, ctx);
        return { ok: true, content: render(result) };
      } catch (error) {
        return fail('tool_error', `tool '${name}' failed: ${errorText(error)}`);
      }
    },
  };
}

function fail(reason: Exclude<ToolCallOutcome, { ok: true }>['reason'], message: string): ToolCallOutcome {
  return { ok: false, reason, content: TOOL_ERROR_PREFIX + message };
}

function render(result: unknown): string {
  if (typeof result === 'string') return result;
  if (result === undefined) return '(no output)';
  try {
    return JSON.stringify(result) ?? String(result);
  } catch {
    return String(result);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A zod 3 schema: it has `_def` but not zod 4's `_zod` internals. */
function isZod3(value: unknown): boolean {
  return typeof value === 'object' && value !== null && '_def' in value && !('_zod' in value);
}
