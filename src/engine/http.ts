import { z } from 'zod';
import { EngineError } from '../core/errors.js';
import { safeParseJson } from '../core/parse.js';
import { ENGINE_ROUTES, EngineErrorBody, fromWire, toWire, type EngineRoute } from './wire.js';

type Routes = typeof ENGINE_ROUTES;
type RouteName = keyof Routes;
type RequestOf<R extends RouteName> = Routes[R]['request'] extends z.ZodType ? z.input<Routes[R]['request']> : Routes[R]['requestKeys'] extends 'openai' ? Record<string, unknown> : undefined;
type ResponseOf<R extends RouteName> = z.infer<Routes[R]['response']>;

/**
 * Probes `health` every 200 ms until it answers yes (true) or `timeoutMs` pass (false); `check` runs
 * before each probe and may throw to stop waiting (e.g. the process exited).
 */
export async function waitUntilHealthy(health: () => Promise<boolean>, timeoutMs: number, check: () => void = () => {}): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    check();
    if (await health()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/**
 * The one HTTP client of the engine's own routes (the OpenAI-compatible sampling routes go through
 * the `openai` SDK). Converts camelCase requests to the engine's snake_case and responses back —
 * the only place keys change case — and validates every response against its schema. Failures are
 * `EngineError`s: with `status` for an HTTP error, without one when the engine is unreachable.
 */
export class EngineHttp {
  constructor(
    readonly baseUrl: string,
    /** Awaited before every call (a supervisor restarting the process resolves it when healthy). */
    private readonly ready: () => Promise<void> = () => Promise.resolve(),
  ) {}

  async call<R extends RouteName>(name: R, ...body: RequestOf<R> extends undefined ? [] : [RequestOf<R>]): Promise<ResponseOf<R>> {
    const route: EngineRoute = ENGINE_ROUTES[name];
    const payload = body[0] === undefined ? undefined : route.requestKeys === 'camel' ? toWire(body[0]) : body[0];
    return (await this.send(route.method, route.path, payload, route.response)) as ResponseOf<R>;
  }

  /** Whether `GET /health` answers within 2 s. */
  async health(): Promise<boolean> {
    try {
      const res = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(2000) });
      return res.ok;
    } catch {
      return false;
    }
  }

  private async send(method: 'GET' | 'POST', path: string, body: unknown, schema: z.ZodType): Promise<unknown> {
    await this.ready();
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new EngineError(`engine at ${this.baseUrl} unreachable for ${path}: ${(error as Error).message}`, { cause: error });
    }
    const text = await res.text();
    if (!res.ok) {
      const err = safeParseJson(text, EngineErrorBody);
      const detail = err.success ? `${err.data.error.code}: ${err.data.error.message}` : text.slice(0, 500);
      throw new EngineError(`engine ${path} failed (${res.status}) ${detail}`, { status: res.status });
    }
    const parsed = safeParseJson(text, z.preprocess(fromWire, schema));
    if (!parsed.success) throw new EngineError(`engine ${path}: unexpected response: ${parsed.error}`, { status: res.status });
    return parsed.data;
  }
}
