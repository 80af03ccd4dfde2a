import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { z } from 'zod';
import { ChatMessage, ToolSchema } from '../core/messages.js';
import { safeParseJson } from '../core/parse.js';
import { Rng } from '../core/rng.js';
import { fakeEncode, fakeLogprobs, fakeRenderChat } from './fake-tokenizer.js';
import type { TestServerReply, TestServerRequest, TestServerRule } from './test-server-rules.js';
import { echoRule } from './test-server-rules.js';

/** Faults injected into requests, by count (the first N requests) or by seeded rate. */
export interface TestServerFaults {
  /** The first `errorFirst` generation requests answer HTTP 500. */
  errorFirst?: number;
  /** Each generation request answers 500 with this probability (seeded). */
  errorRate?: number;
  /** The first `hangFirst` requests (after the error ones) never answer. */
  hangFirst?: number;
  /** Each request hangs with this probability (seeded). */
  hangRate?: number;
  /** Seed for the rates. Default 0. */
  seed?: number;
}

export interface TestServerOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  host?: string;
  /** Model id listed by `/v1/models` and echoed in responses. Default 'test-model'. */
  model?: string;
  /** Replies handed out in order (one per choice) before `rule` is used. */
  script?: TestServerReply[];
  /** Computes replies once the script is used up. Default: echo the last user message. */
  rule?: TestServerRule;
  /** When the script is used up and there is no rule, answer 500 instead of echoing. */
  strictScript?: boolean;
  /** Delay before every generation response, in ms (a number, or a function of the request). */
  latencyMs?: number | ((request: TestServerRequest) => number);
  faults?: TestServerFaults;
  /** Reported as `policy_version` on every response when set. */
  policyVersion?: number;
  /** Keep a log of requests in `requests` (default true; turn off for long benchmarks). */
  logRequests?: boolean;
}

/** One logged request. */
export interface LoggedRequest {
  method: string;
  path: string;
  body: unknown;
  status: number;
  /** The request's HTTP headers (lower-case names), for generation requests. */
  headers?: Record<string, string | string[] | undefined>;
  /** 'error' or 'hang' when a fault was injected. */
  fault?: 'error' | 'hang';
}

const ChatBody = z.looseObject({
  model: z.string().default('test-model'),
  messages: z.array(ChatMessage).min(1),
  tools: z.array(ToolSchema).optional(),
  n: z.number().int().positive().max(128).default(1),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  logprobs: z.boolean().nullish(),
  return_token_ids: z.boolean().nullish(),
  return_tokens_as_token_ids: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
});

const CompletionBody = z.looseObject({
  model: z.string().default('test-model'),
  prompt: z.union([z.string(), z.array(z.number().int())]),
  n: z.number().int().positive().max(128).default(1),
  max_tokens: z.number().int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  logprobs: z.number().int().nonnegative().nullish(),
  return_token_ids: z.boolean().nullish(),
  return_tokens_as_token_ids: z.boolean().nullish(),
  stream: z.boolean().nullish(),
});

/** A running test server. `baseUrl` ends in `/v1`, ready for an OpenAI client. */
export interface TestServer {
  readonly url: string;
  readonly baseUrl: string;
  readonly port: number;
  /** Requests received, in order (empty when `logRequests` is false). */
  readonly requests: LoggedRequest[];
  /** Generation requests received (chat + completions), counted even when not logged. */
  readonly generationCount: number;
  /** Requests currently hanging (they end when the client gives up or the server closes). */
  readonly hanging: number;
  /** Largest number of generation requests in flight at once. */
  readonly maxInFlight: number;
  /** Distinct TCP connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * Starts a real OpenAI-compatible HTTP server (`/v1/models`, `/v1/chat/completions`,
 * `/v1/completions`) with deterministic behaviour: scripted or rule-based replies, fixed latency,
 * injected 500s and hangs, and vLLM-style token ids and logprobs from a fake tokenizer.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const model = options.model ?? 'test-model';
  const script = [...(options.script ?? [])];
  const rule = options.rule ?? (options.strictScript ? undefined : echoRule);
  const faults = options.faults ?? {};
  const rng = new Rng(faults.seed ?? 0);
  const logRequests = options.logRequests ?? true;
  const requests: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  const hangingResponses = new Set<ServerResponse>();
  let generationCount = 0;
  let choiceIndex = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let connections = 0;
  let errorsLeft = faults.errorFirst ?? 0;
  let hangsLeft = faults.hangFirst ?? 0;
  let created = 0;

  const log = (entry: LoggedRequest) => {
    if (logRequests) requests.push(entry);
  };

  const send = (res: ServerResponse, status: number, payload: unknown) => {
    const text = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const hang = (res: ServerResponse) => {
    hangingResponses.add(res);
    res.on('close', () => hangingResponses.delete(res));
  };

  const nextReply = (request: TestServerRequest): TestServerReply => {
    const index = choiceIndex++;
    if (script.length > 0) return script.shift()!;
    if (rule) return rule(request, index);
    return { fault: 'error', status: 500, message: 'test server script exhausted' };
  };

  const handleGeneration = async (req: IncomingMessage, res: ServerResponse, kind: 'chat' | 'completions', text: string) => {
    generationCount++;
    const path = req.url ?? '';
    const parsed = kind === 'chat' ? safeParseJson(text, ChatBody) : safeParseJson(text, CompletionBody);
    if (!parsed.success) {
      log({ method: 'POST', headers: req.headers, path, body: text, status: 400 });
      send(res, 400, { error: { message: `invalid request: ${parsed.error}`, type: 'invalid_request_error' } });
      return;
    }
    const body = parsed.data as z.infer<typeof ChatBody> & z.infer<typeof CompletionBody>;
    if (body.stream && kind !== 'chat') {
      log({ method: 'POST', headers: req.headers, path, body, status: 400 });
      send(res, 400, { error: { message: 'the test server streams chat completions only', type: 'invalid_request_error' } });
      return;
    }
    // Injected faults by count, then by rate.
    let fault: 'error' | 'hang' | undefined;
    if (errorsLeft > 0) {
      errorsLeft--;
      fault = 'error';
    } else if (hangsLeft > 0) {
      hangsLeft--;
      fault = 'hang';
    } else if (faults.errorRate && rng.next() < faults.errorRate) fault = 'error';
    else if (faults.hangRate && rng.next() < faults.hangRate) fault = 'hang';
    if (fault === 'error') {
      log({ method: 'POST', headers: req.headers, path, body, status: 500, fault });
      send(res, 500, { error: { message: 'injected server error', type: 'server_error' } });
      return;
    }
    if (fault === 'hang') {
      log({ method: 'POST', headers: req.headers, path, body, status: 0, fault });
      hang(res);
      return;
    }

    const messages: ChatMessage[] = kind === 'chat' ? body.messages : [{ role: 'user', content: promptText(body.prompt) }];
    const request: TestServerRequest = { kind, model: body.model, messages, body };
    if (kind === 'completions') request.prompt = promptText(body.prompt);
    if (body.tools) request.tools = body.tools;

    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const latency = typeof options.latencyMs === 'function' ? options.latencyMs(request) : (options.latencyMs ?? 0);
      if (latency > 0) await new Promise((r) => setTimeout(r, latency));
      const replies: TestServerReply[] = [];
      for (let i = 0; i < body.n; i++) replies.push(nextReply(request));
      const replyFault = replies.find((r): r is Extract<TestServerReply, { fault: string }> => typeof r === 'object' && 'fault' in r);
      if (replyFault?.fault === 'hang') {
        log({ method: 'POST', headers: req.headers, path, body, status: 0, fault: 'hang' });
        hang(res);
        return;
      }
      if (replyFault?.fault === 'error') {
        const status = replyFault.status ?? 500;
        log({ method: 'POST', headers: req.headers, path, body, status, fault: 'error' });
        send(res, status, { error: { message: replyFault.message ?? 'scripted server error', type: 'server_error' } });
        return;
      }
      const payload =
        kind === 'chat' ? chatPayload(body, replies, model, ++created) : completionPayload(body, replies, model, ++created);
      if (options.policyVersion !== undefined) (payload as Record<string, unknown>).policy_version = options.policyVersion;
      log({ method: 'POST', headers: req.headers, path, body, status: 200 });
      if (body.stream) sendStream(res, payload, body.stream_options?.include_usage === true);
      else send(res, 200, payload);
    } finally {
      inFlight--;
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0];
      const text = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'GET' && (path === '/v1/models' || path === '/models')) {
        log({ method: 'GET', path, body: null, status: 200 });
        send(res, 200, { object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: 'keiko-test' }] });
      } else if (req.method === 'GET' && path === '/health') {
        send(res, 200, { status: 'ok' });
      } else if (req.method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions')) {
        void handleGeneration(req, res, 'chat', text);
      } else if (req.method === 'POST' && (path === '/v1/completions' || path === '/completions')) {
        void handleGeneration(req, res, 'completions', text);
      } else {
        log({ method: req.method ?? '', path: path ?? '', body: text, status: 404 });
        send(res, 404, { error: { message: `no route ${req.method} ${path}`, type: 'not_found' } });
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  return {
    url,
    baseUrl: `${url}/v1`,
    port: address.port,
    requests,
    get generationCount() {
      return generationCount;
    },
    get hanging() {
      return hangingResponses.size;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hangingResponses) res.destroy();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/**
 * Sends a finished chat completion as server-sent events, the way OpenAI-compatible servers stream:
 * a role chunk, the content, tool-call deltas, a finish chunk, an optional usage chunk, `[DONE]`.
 */
function sendStream(res: ServerResponse, payload: Record<string, unknown>, includeUsage: boolean): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const base = { id: payload.id, object: 'chat.completion.chunk', created: payload.created, model: payload.model };
  const event = (chunk: Record<string, unknown>) => res.write(`data: ${JSON.stringify({ ...base, ...chunk })}\n\n`);
  type StreamChoice = { index: number; message: { content: string | null; tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[] }; finish_reason: string; logprobs: unknown; token_ids?: number[] };
  for (const choice of payload.choices as StreamChoice[]) {
    event({ choices: [{ index: choice.index, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    if (choice.message.content) {
      event({ choices: [{ index: choice.index, delta: { content: choice.message.content }, logprobs: choice.logprobs, finish_reason: null, ...(choice.token_ids ? { token_ids: choice.token_ids } : {}) }] });
    }
    for (const [i, call] of (choice.message.tool_calls ?? []).entries()) {
      event({ choices: [{ index: choice.index, delta: { tool_calls: [{ index: i, ...call }] }, finish_reason: null }] });
    }
    event({ choices: [{ index: choice.index, delta: {}, finish_reason: choice.finish_reason }] });
  }
  if (includeUsage) event({ choices: [], usage: payload.usage });
  res.end('data: [DONE]\n\n');
}

function promptText(prompt: string | number[]): string {
  return typeof prompt === 'string' ? prompt : String.fromCodePoint(...prompt);
}

interface Shaped {
  text: string;
  finishReason: 'stop' | 'length' | 'tool_calls';
  toolCalls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
}

/** Applies stop strings and max_tokens (in fake tokens) to a reply, as a real server would. */
function shape(reply: Exclude<TestServerReply, { fault: string }>, maxTokens: number | undefined, stop: string[], created: number, i: number): Shaped {
  let text = typeof reply === 'string' ? reply : (reply.content ?? '');
  let finishReason: Shaped['finishReason'] = typeof reply === 'string' ? 'stop' : (reply.finishReason ?? 'stop');
  const toolCalls =
    typeof reply === 'object' && reply.tool_calls?.length
      ? reply.tool_calls.map((c, j) => ({ id: c.id ?? `call_${created}_${i}_${j}`, type: 'function' as const, function: { name: c.name, arguments: c.arguments } }))
      : undefined;
  if (toolCalls && finishReason === 'stop') finishReason = 'tool_calls';
  for (const s of stop) {
    const at = s ? text.indexOf(s) : -1;
    if (at >= 0) {
      text = text.slice(0, at);
      finishReason = 'stop';
    }
  }
  if (maxTokens !== undefined) {
    const chars = [...text];
    if (chars.length > maxTokens) {
      text = chars.slice(0, maxTokens).join('');
      finishReason = 'length';
    }
  }
  return toolCalls ? { text, finishReason, toolCalls } : { text, finishReason };
}

function stopList(stop: string | string[] | null | undefined): string[] {
  if (!stop) return [];
  return typeof stop === 'string' ? [stop] : stop;
}

function tokenLabel(id: number, asIds: boolean): string {
  return asIds ? `token_id:${id}` : String.fromCodePoint(id);
}

function chatPayload(body: z.infer<typeof ChatBody>, replies: TestServerReply[], model: string, created: number) {
  const promptIds = fakeEncode(fakeRenderChat(body.messages));
  const wantIds = body.return_token_ids === true;
  const asIds = body.return_tokens_as_token_ids === true;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  let completionTokens = 0;
  const choices = replies.map((reply, index) => {
    const shaped = shape(reply as Exclude<TestServerReply, { fault: string }>, maxTokens, stopList(body.stop), created, index);
    const ids = fakeEncode(shaped.text);
    completionTokens += ids.length;
    const logprobs = fakeLogprobs(ids);
    const choice: Record<string, unknown> = {
      index,
      message: { role: 'assistant', content: shaped.toolCalls && !shaped.text ? null : shaped.text, ...(shaped.toolCalls ? { tool_calls: shaped.toolCalls } : {}) },
      finish_reason: shaped.finishReason,
      logprobs: body.logprobs
        ? { content: ids.map((id, i) => ({ token: tokenLabel(id, asIds), logprob: logprobs[i], bytes: null, top_logprobs: [] })) }
        : null,
    };
    if (wantIds) choice.token_ids = ids;
    return choice;
  });
  const payload: Record<string, unknown> = {
    id: `chatcmpl-test-${created}`,
    object: 'chat.completion',
    created,
    model,
    choices,
    usage: { prompt_tokens: promptIds.length, completion_tokens: completionTokens, total_tokens: promptIds.length + completionTokens },
  };
  if (wantIds) payload.prompt_token_ids = promptIds;
  return payload;
}

function completionPayload(body: z.infer<typeof CompletionBody>, replies: TestServerReply[], model: string, created: number) {
  const promptIds = typeof body.prompt === 'string' ? fakeEncode(body.prompt) : body.prompt;
  const wantIds = body.return_token_ids === true;
  const asIds = body.return_tokens_as_token_ids === true;
  let completionTokens = 0;
  const choices = replies.map((reply, index) => {
    const shaped = shape(reply as Exclude<TestServerReply, { fault: string }>, body.max_tokens ?? undefined, stopList(body.stop), created, index);
    const ids = fakeEncode(shaped.text);
    completionTokens += ids.length;
    const logprobs = fakeLogprobs(ids);
    const choice: Record<string, unknown> = {
      index,
      text: shaped.text,
      finish_reason: shaped.finishReason === 'tool_calls' ? 'stop' : shaped.finishReason,
      logprobs:
        body.logprobs !== null && body.logprobs !== undefined
          ? { tokens: ids.map((id) => tokenLabel(id, asIds)), token_logprobs: logprobs, top_logprobs: null, text_offset: [] }
          : null,
    };
    if (wantIds) {
      choice.prompt_token_ids = promptIds;
      choice.token_ids = ids;
    }
    return choice;
  });
  return {
    id: `cmpl-test-${created}`,
    object: 'text_completion',
    created,
    model,
    choices,
    usage: { prompt_tokens: promptIds.length, completion_tokens: completionTokens, total_tokens: promptIds.length + completionTokens },
  };
}

