import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { ConfigError, SamplerError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type {
  CallOptions,
  ChatRequest,
  ChatResponse,
  CompletionRequest,
  CompletionResponse,
  Sampler,
  SamplingArgs,
} from '../core/sampler.js';
import { LoadBalancer, type LoadBalancing } from './load-balancer.js';
import { toChatResponse, toCompletionResponse } from './openai-response.js';
import { DEFAULT_RETRY_POLICY, withRetries, type RetryPolicy } from './retry.js';

export interface OpenAISamplerOptions {
  /** Model id sent with every request. */
  model: string;
  /** One base URL (ending in `/v1`) or several, load-balanced. */
  baseUrl: string | readonly string[];
  /** API key; local servers accept anything. Default: `OPENAI_API_KEY`, else 'none'. */
  apiKey?: string;
  /** Per-attempt timeout in ms. Default 10 minutes. */
  timeoutMs?: number;
  /** Retries for 5xx, 429, 408, timeouts and connection errors. Default 3 retries, 200 ms base, 5 s cap. */
  retry?: Partial<RetryPolicy>;
  /** How requests are spread over several base URLs. Default 'least-outstanding'. */
  loadBalancing?: LoadBalancing;
  /** Sampling args applied under each request's own. */
  defaultSampling?: SamplingArgs;
  /** Extra JSON fields merged into every request body (e.g. `{ top_k: 20 }` for vLLM). */
  extraBody?: Record<string, unknown>;
  /** HTTP headers sent with every request (e.g. a gateway's routing or auth header). */
  headers?: Record<string, string>;
  /** Seed for retry jitter. Default 0. */
  seed?: number;
  /** Called on every retry, for logs and counters. */
  onRetry?: (info: { error: SamplerError; attempt: number; delayMs: number; baseUrl: string }) => void;
}

/**
 * A `Sampler` for any OpenAI-compatible server (vLLM, SGLang, llama.cpp, keiko's engine, hosted
 * APIs), built on the `openai` SDK. With `sampling.returnTokens` it asks for vLLM-style token ids and
 * logprobs (`return_token_ids`) and fails loudly if the server does not send them.
 */
export class OpenAISampler implements Sampler {
  readonly model: string;
  private readonly balancer: LoadBalancer<{ client: OpenAI; baseUrl: string }>;
  protected readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly rng: Rng;
  private readonly options: OpenAISamplerOptions;
  private retriesSoFar = 0;

  constructor(options: OpenAISamplerOptions) {
    const urls = (typeof options.baseUrl === 'string' ? [options.baseUrl] : [...options.baseUrl])
      .flatMap((u) => u.split(','))
      .map((u) => u.trim())
      .filter(Boolean);
    if (urls.length === 0) throw new ConfigError('OpenAISampler needs at least one base URL (e.g. http://localhost:8000/v1)');
    for (const url of urls) {
      if (!URL.canParse(url)) throw new ConfigError(`invalid base URL '${url}'; expected e.g. http://localhost:8000/v1`);
    }
    if (!options.model) throw new ConfigError('OpenAISampler needs a model id');
    this.model = options.model;
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? 600_000;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.rng = new Rng(options.seed ?? 0);
    const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY ?? 'none';
    // The SDK's own retries are off: keiko retries itself so it can count and log them. Node's global
    // fetch (undici) keeps connections alive and does not cap sockets per origin.
    const endpoints = urls.map((baseUrl) => ({
      baseUrl,
      client: new OpenAI({ baseURL: baseUrl, apiKey, maxRetries: 0, timeout: this.timeoutMs, ...(options.headers ? { defaultHeaders: options.headers } : {}) }),
    }));
    this.balancer = new LoadBalancer(endpoints, options.loadBalancing ?? 'least-outstanding');
  }

  /** Base URLs in use. */
  get baseUrls(): string[] {
    return this.balancer.endpoints.map((e) => e.baseUrl);
  }

  /** Retries performed so far, over all requests. */
  get retries(): number {
    return this.retriesSoFar;
  }

  async chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse> {
    const { body, wantTokens } = this.chatBody(request);
    const raw = await this.send(options?.signal, (client, signal) =>
      client.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming, { signal, timeout: this.timeoutMs }),
    );
    return toChatResponse(raw, this.model, wantTokens);
  }

  /** The JSON body of a chat completions request, and whether token ids were asked for. */
  protected chatBody(request: ChatRequest): { body: Record<string, unknown>; wantTokens: boolean } {
    const sampling = { ...this.options.defaultSampling, ...request.sampling };
    const wantTokens = sampling.returnTokens === true;
    const body: Record<string, unknown> = {
      ...this.options.extraBody,
      model: this.model,
      messages: request.messages,
      ...samplingBody(sampling),
    };
    if (request.n !== undefined && request.n !== 1) body.n = request.n;
    if (request.tools?.length) body.tools = request.tools;
    if (wantTokens) {
      body.logprobs = true;
      body.return_token_ids = true;
    }
    return { body, wantTokens };
  }

  async complete(request: CompletionRequest, options?: CallOptions): Promise<CompletionResponse> {
    const sampling = { ...this.options.defaultSampling, ...request.sampling };
    const wantTokens = sampling.returnTokens === true;
    const body: Record<string, unknown> = {
      ...this.options.extraBody,
      model: this.model,
      prompt: request.prompt,
      ...samplingBody(sampling),
    };
    if (request.n !== undefined && request.n !== 1) body.n = request.n;
    if (wantTokens) {
      body.logprobs = 0;
      body.return_token_ids = true;
    }
    const raw = await this.send(options?.signal, (client, signal) =>
      client.completions.create(body as unknown as OpenAI.CompletionCreateParamsNonStreaming, { signal, timeout: this.timeoutMs }),
    );
    return toCompletionResponse(raw, this.model, wantTokens);
  }

  /** One call with keiko's retries (5xx, 429, timeouts, connection errors) and load balancing. */
  protected send<T>(signal: AbortSignal | undefined, call: (client: OpenAI, signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    let lastBaseUrl = '';
    return withRetries({
      policy: this.retry,
      rng: this.rng,
      signal,
      attempt: () =>
        this.balancer.run(async ({ client, baseUrl }) => {
          lastBaseUrl = baseUrl;
          try {
            return await call(client, signal);
          } catch (error) {
            throw toSamplerError(error, baseUrl);
          }
        }),
      onRetry: (error, attempt, delayMs) => {
        this.retriesSoFar++;
        this.options.onRetry?.({ error, attempt, delayMs, baseUrl: lastBaseUrl });
      },
    });
  }
}

function samplingBody(s: SamplingArgs): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (s.temperature !== undefined) body.temperature = s.temperature;
  if (s.topP !== undefined) body.top_p = s.topP;
  if (s.maxTokens !== undefined) body.max_tokens = s.maxTokens;
  if (s.stop?.length) body.stop = s.stop;
  if (s.seed !== undefined) body.seed = s.seed;
  return body;
}

/** Maps SDK errors to `SamplerError`, marking which ones are worth retrying. */
export function toSamplerError(error: unknown, baseUrl: string): SamplerError {
  if (error instanceof SamplerError) return error;
  if (error instanceof APIUserAbortError) {
    return new SamplerError(`request to ${baseUrl} aborted`, { cause: error, retryable: false });
  }
  if (error instanceof APIConnectionError) {
    // Includes APIConnectionTimeoutError.
    const what = error.constructor.name === 'APIConnectionTimeoutError' ? 'timed out' : 'connection failed';
    return new SamplerError(`request to ${baseUrl} ${what}: ${error.message}`, { cause: error, retryable: true });
  }
  if (error instanceof APIError) {
    const status = error.status;
    const retryable = status === undefined || status >= 500 || status === 429 || status === 408;
    return new SamplerError(`${baseUrl} answered ${status ?? 'an error'}: ${error.message}`, { cause: error, status: status ?? 0, retryable });
  }
  return new SamplerError(`request to ${baseUrl} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error, retryable: false });
}
