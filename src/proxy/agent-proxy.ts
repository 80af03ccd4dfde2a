import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { z } from 'zod';
import { ConfigError, describeError, SamplerError } from '../core/errors.js';
import { safeParseJson } from '../core/parse.js';
import type { SamplingArgs } from '../core/sampler.js';
import type { ProxyCall } from './proxy-call.js';
import { sseFromResponse } from './sse.js';
import { UpstreamClient } from './upstream-client.js';
import { checkAgentBody, prepareUpstreamBody, type Endpoint } from './upstream-body.js';

/** Header that carries the rollout id when the URL path does not. */
export const ROLLOUT_ID_HEADER = 'x-keiko-rollout-id';

/** Where one rollout's calls go. */
export interface UpstreamTarget {
  /** OpenAI-compatible base URL ending in `/v1` (keiko's engine, vLLM, the test server…). */
  baseUrl: string;
  /** Model name the upstream expects; replaces whatever the agent sends. */
  model?: string;
  /** API key for the upstream. Default 'none'. */
  apiKey?: string;
}

export interface OpenSessionOptions {
  /** Rollout id; must be unique among open sessions. Default: a fresh one. */
  id?: string;
  /** Upstream for this rollout. Default: the proxy's `upstream`. */
  upstream?: UpstreamTarget;
  /** Sampling that replaces the agent's own (temperature, max tokens, seed…). */
  sampling?: SamplingArgs;
  /** Model calls allowed (a rollout's turn budget); later calls get HTTP 400 `max_turns_exceeded`. */
  maxCalls?: number;
}

export interface AgentProxyOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /**
   * Default upstream. With it, requests for ids no session was opened for get a session on the
   * fly (handy when the proxy runs on its own); without it they are refused with 404.
   */
  upstream?: UpstreamTarget;
  /** Called after every recorded call. */
  onCall?: (call: ProxyCall) => void;
}

/** A JSON object, checked without copying it. */
const RequestJson = z.custom<Record<string, unknown>>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), 'expected a JSON object');
const AnyJson = z.unknown();

/** One rollout's view of the proxy: its base URL and the calls recorded so far, in arrival order. */
export class ProxySession {
  readonly id: string;
  /** Base URL for the agent: `http://host:port/rollouts/<id>/v1`. */
  readonly baseURL: string;
  readonly calls: ProxyCall[] = [];
  /** @internal */ readonly upstream: UpstreamClient;
  /** @internal */ readonly target: UpstreamTarget;
  /** @internal */ readonly sampling: SamplingArgs | undefined;
  /** @internal */ readonly maxCalls: number;
  /** @internal */ nextIndex = 0;
  /** Calls refused because the rollout's call budget (`maxCalls`) was used up. */
  refusedCalls = 0;
  /** @internal */ readonly aborts = new Set<(reason: Error) => void>();
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private closedFlag = false;

  /** @internal */
  constructor(options: {
    id: string;
    baseURL: string;
    upstream: UpstreamClient;
    target: UpstreamTarget;
    sampling: SamplingArgs | undefined;
    maxCalls: number | undefined;
    onClose: (s: ProxySession) => void;
  }) {
    this.id = options.id;
    this.maxCalls = options.maxCalls ?? Infinity;
    this.baseURL = options.baseURL;
    this.upstream = options.upstream;
    this.target = options.target;
    this.sampling = options.sampling;
    this.onClose = options.onClose;
  }

  private readonly onClose: (s: ProxySession) => void;

  /** Whether `close` was called. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Calls still waiting for the upstream. */
  get pending(): number {
    return this.inFlight;
  }

  /** @internal */ begin(): void {
    this.inFlight++;
  }

  /** @internal */ end(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.idle) {
      const resolve = this.idle;
      this.idle = undefined;
      resolve();
    }
  }

  /** Resolves when no call of this rollout is waiting on the upstream. */
  settled(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.idle;
      this.idle = () => {
        previous?.();
        resolve();
      };
    });
  }

  /**
   * Ends the rollout: later requests with its id are refused, calls still in flight are aborted
   * (and recorded with an error). Resolves once they are recorded.
   */
  async close(): Promise<void> {
    if (!this.closedFlag) {
      this.closedFlag = true;
      this.onClose(this);
      const reason = new SamplerError(`rollout ${this.id} ended before the call completed`, { retryable: false });
      for (const abort of this.aborts) abort(reason);
    }
    await this.settled();
  }
}

/** A running interception proxy. */
export interface AgentProxy {
  /** `http://host:port`. */
  readonly url: string;
  /** Open sessions. */
  readonly sessions: ReadonlyMap<string, ProxySession>;
  /** Registers a rollout; its agent should use `session.baseURL`. */
  open(options?: OpenSessionOptions): ProxySession;
  /** Looks up an open session. */
  get(id: string): ProxySession | undefined;
  /** Stops listening, aborts in-flight calls and closes upstream connections. */
  close(): Promise<void>;
}

const ROUTE = /^(?:\/rollouts\/([^/]+))?(?:\/v1)?\/(chat\/completions|completions|models)\/?$/;

/**
 * Starts the interception proxy: an OpenAI-compatible server (`/v1/chat/completions`,
 * `/v1/completions`, `/v1/models`; streaming and not; tool calls pass through) that forwards each
 * call to its rollout's upstream with `return_token_ids` and logprobs switched on, and records the
 * request, the full response and timing on the rollout's session. The rollout id comes from the path
 * (`/rollouts/<id>/v1/...`) or the `x-keiko-rollout-id` header; a request with neither gets 400.
 * Streams are produced by the proxy from the upstream's full response, so a streamed call is
 * recorded exactly like a non-streamed one.
 */
export async function startAgentProxy(options: AgentProxyOptions = {}): Promise<AgentProxy> {
  const sessions = new Map<string, ProxySession>();
  const clients = new Map<string, UpstreamClient>();
  const sockets = new Set<Socket>();
  const t0 = performance.now();
  let counter = 0;
  let url = '';
  if (options.upstream) clientFor(options.upstream);

  function clientFor(target: UpstreamTarget): UpstreamClient {
    const key = `${target.baseUrl}\u0000${target.apiKey ?? ''}`;
    let client = clients.get(key);
    if (!client) {
      client = new UpstreamClient({ baseUrl: target.baseUrl.replace(/\/+$/, ''), apiKey: target.apiKey });
      clients.set(key, client);
    }
    return client;
  }

  function open(sessionOptions: OpenSessionOptions = {}): ProxySession {
    const target = sessionOptions.upstream ?? options.upstream;
    if (!target) throw new ConfigError('proxy session needs an upstream: pass { upstream: { baseUrl } } to open() or to startAgentProxy()');
    let id = sessionOptions.id;
    if (id === undefined) do id = `rollout-${++counter}`; while (sessions.has(id));
    if (!/^[A-Za-z0-9._~-]{1,200}$/.test(id)) throw new ConfigError(`rollout id '${id}' must be 1-200 chars of [A-Za-z0-9._~-]`);
    if (sessions.has(id)) throw new ConfigError(`rollout id '${id}' is already open on the proxy; ids must be unique`);
    const session = new ProxySession({
      id,
      baseURL: `${url}/rollouts/${id}/v1`,
      upstream: clientFor(target),
      target,
      sampling: sessionOptions.sampling,
      maxCalls: sessionOptions.maxCalls,
      onClose: (s) => {
        if (sessions.get(s.id) === s) sessions.delete(s.id);
      },
    });
    sessions.set(id, session);
    return session;
  }

  const sendJson = (res: ServerResponse, status: number, payload: unknown) => {
    const text = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const sendError = (res: ServerResponse, status: number, code: string, message: string) =>
    sendJson(res, status, { error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', code } });

  async function forward(req: IncomingMessage, res: ServerResponse, session: ProxySession, endpoint: Endpoint, text: string): Promise<void> {
    const parsedJson = safeParseJson(text, RequestJson);
    if (!parsedJson.success) return sendError(res, 400, 'invalid_request', `request body: ${parsedJson.error}`);
    const body = parsedJson.data;
    const problem = checkAgentBody(endpoint, body);
    if (problem !== undefined) return sendError(res, 400, 'invalid_request', `request body: ${problem}`);
    if (session.closed) return sendError(res, 404, 'unknown_rollout_id', `keiko proxy: rollout '${session.id}' already ended`);
    if (session.nextIndex >= session.maxCalls) {
      session.refusedCalls++;
      return sendError(res, 400, 'max_turns_exceeded', `keiko proxy: rollout '${session.id}' used its budget of ${session.maxCalls} model calls`);
    }
    const index = session.nextIndex++;
    const { stream, includeUsage } = prepareUpstreamBody({
      endpoint,
      body,
      callIndex: index,
      overrides: { model: session.target.model, sampling: session.sampling },
    });
    const startMs = performance.now() - t0;
    const call: ProxyCall = { schemaVersion: 1, rolloutId: session.id, index, endpoint, streamed: stream, request: body, status: 0, startMs, endMs: startMs };
    // The call is cut off when the rollout ends or the agent hangs up.
    let abort: ((reason: Error) => void) | undefined;
    const onClientClose = () => {
      if (!res.writableEnded) abort?.(new SamplerError('the agent closed the connection', { retryable: false }));
    };
    res.on('close', onClientClose);
    session.begin();
    try {
      const reply = await session.upstream.post(endpoint === 'chat' ? 'chat/completions' : 'completions', JSON.stringify(body), (cut) => {
        abort = cut;
        session.aborts.add(cut);
      });
      call.status = reply.status;
      const parsed = safeParseJson(reply.text, AnyJson);
      if (parsed.success) call.response = parsed.data;
      if (reply.status < 200 || reply.status >= 300) {
        call.error = describeError(new SamplerError(`upstream answered ${reply.status}: ${reply.text.slice(0, 500)}`, { status: reply.status }));
      } else if (!parsed.success) {
        call.error = describeError(new SamplerError(`upstream sent invalid JSON: ${parsed.error}`));
      }
      call.endMs = performance.now() - t0;
      session.calls.push(call);
      options.onCall?.(call);
      if (res.destroyed) return;
      if (stream && call.error === undefined) {
        const sse = sseFromResponse({ endpoint, body: call.response, includeUsage });
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'content-length': Buffer.byteLength(sse) });
        res.end(sse);
      } else {
        res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply.text) });
        res.end(reply.text);
      }
    } catch (error) {
      call.error = describeError(error instanceof SamplerError ? error : new SamplerError(`upstream request failed: ${(error as Error).message}`, { cause: error }));
      call.endMs = performance.now() - t0;
      session.calls.push(call);
      options.onCall?.(call);
      if (!res.destroyed && !res.headersSent) sendError(res, 502, 'upstream_error', `keiko proxy: upstream ${session.upstream.baseUrl} failed: ${call.error.message}`);
    } finally {
      if (abort) session.aborts.delete(abort);
      res.off('close', onClientClose);
      session.end();
    }
  }

  const server: Server = createServer((req, res) => {
    const rawPath = req.url ?? '';
    const q = rawPath.indexOf('?');
    const path = q >= 0 ? rawPath.slice(0, q) : rawPath;
    if (path === '/health') return sendJson(res, 200, { status: 'ok' });
    const match = ROUTE.exec(path);
    if (!match) return sendError(res, 404, 'not_found', `keiko proxy: no route ${req.method} ${path}; use /rollouts/<id>/v1/chat/completions or /rollouts/<id>/v1/completions`);
    const header = req.headers[ROLLOUT_ID_HEADER];
    let id = match[1] !== undefined ? safeDecode(match[1]) : Array.isArray(header) ? header[0] : header;
    if (id === '') id = undefined;
    if (id === undefined) {
      return sendError(
        res,
        400,
        'missing_rollout_id',
        `keiko proxy: request has no rollout id; use the base URL /rollouts/<id>/v1 (AgentEnv hands it to your agent as baseURL) or send the '${ROLLOUT_ID_HEADER}' header`,
      );
    }
    let session = sessions.get(id);
    if (!session && options.upstream) {
      try {
        session = open({ id });
      } catch (error) {
        return sendError(res, 400, 'invalid_rollout_id', `keiko proxy: ${(error as Error).message}`);
      }
    }
    if (!session) {
      return sendError(res, 404, 'unknown_rollout_id', `keiko proxy: rollout '${id}' is not open (it never started or already ended); open it with proxy.open({ id })`);
    }
    const route = match[2]!;
    if (route === 'models') {
      if (req.method !== 'GET') return sendError(res, 405, 'method_not_allowed', 'keiko proxy: use GET for /v1/models');
      const model = session.target.model ?? 'keiko';
      return sendJson(res, 200, { object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: 'keiko' }] });
    }
    if (req.method !== 'POST') return sendError(res, 405, 'method_not_allowed', `keiko proxy: use POST for /v1/${route}`);
    const endpoint: Endpoint = route === 'completions' ? 'completions' : 'chat';
    const target = session;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      void forward(req, res, target, endpoint, text);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  server.on('connection', (socket: Socket) => {
    // Agents keep connections alive; an idle one must not keep the process running after the run.
    // (While a call is in flight, the agent's own socket and the upstream request keep it alive.)
    socket.unref();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  // The proxy never keeps a process alive on its own (an environment may not be closed explicitly).
  server.unref();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  url = `http://${host}:${address.port}`;

  return {
    url,
    sessions,
    open,
    get: (id) => sessions.get(id),
    close: async () => {
      await Promise.all([...sessions.values()].map((s) => s.close()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      for (const client of clients.values()) client.close();
    },
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
