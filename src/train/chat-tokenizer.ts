import { z } from 'zod';
import { EngineError } from '../core/errors.js';
import type { ChatMessage, ToolSchema } from '../core/messages.js';
import { safeParseJson } from '../core/parse.js';

/** Renders chat messages with the model's template and returns the token ids (with generation prompt). */
export interface ChatTokenizer {
  /** Ids of `messages` rendered with `add_generation_prompt` — exactly what the sampler would condition on. */
  encodeChat(request: { messages: ChatMessage[]; tools?: readonly ToolSchema[] }): Promise<number[]>;
  /** End-of-turn / end-of-sequence token ids. */
  eosIds(): Promise<number[]>;
}

const TokenizeReply = z.object({ data: z.array(z.object({ prompt_token_ids: z.array(z.number().int()) }).loose()) }).loose();
const Info = z.object({ eos_token_ids: z.array(z.number().int()).default([]) }).loose();

type ChatRequest = { messages: ChatMessage[]; tools?: readonly ToolSchema[] };

/**
 * Tokenizes through the engine itself (`POST /v1/chat/tokenize`: its chat template and tokenizer,
 * no model run), so SFT data is rendered and tokenized exactly as the sampler will see it. Requests
 * made in the same tick go in one call; results are cached.
 */
export class EngineChatTokenizer implements ChatTokenizer {
  private readonly baseUrl: string;
  private readonly cache = new Map<string, Promise<number[]>>();
  private eos: Promise<number[]> | undefined;
  private pending: { request: ChatRequest; resolve: (ids: number[]) => void; reject: (error: unknown) => void }[] = [];

  constructor(options: { baseUrl: string }) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  }

  encodeChat(request: ChatRequest): Promise<number[]> {
    const key = JSON.stringify(request);
    let hit = this.cache.get(key);
    if (!hit) {
      hit = new Promise<number[]>((resolve, reject) => {
        if (this.pending.length === 0) setImmediate(() => void this.flush());
        this.pending.push({ request, resolve, reject });
      });
      hit.catch(() => this.cache.delete(key));
      this.cache.set(key, hit);
    }
    return hit;
  }

  private async flush(): Promise<void> {
    const all = this.pending;
    this.pending = [];
    // The engine takes up to 4096 requests a call.
    await Promise.all(Array.from({ length: Math.ceil(all.length / 1024) }, (_, k) => this.send(all.slice(k * 1024, (k + 1) * 1024))));
  }

  private async send(batch: typeof this.pending): Promise<void> {
    const requests = batch.map(({ request }) => ({ messages: request.messages, ...(request.tools?.length ? { tools: request.tools } : {}) }));
    try {
      const reply = await this.post('/v1/chat/tokenize', { requests }, TokenizeReply);
      if (reply.data.length !== batch.length) throw new EngineError(`engine /v1/chat/tokenize returned ${reply.data.length} items for ${batch.length} requests`);
      batch.forEach((item, i) => item.resolve(reply.data[i]!.prompt_token_ids));
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  }

  eosIds(): Promise<number[]> {
    this.eos ??= this.get('/info', Info).then((r) => r.eos_token_ids);
    return this.eos;
  }

  private async get<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S>> {
    return this.parse(path, await fetch(this.baseUrl + path).catch((e: unknown) => this.unreachable(path, e)), schema);
  }

  private async post<S extends z.ZodType>(path: string, body: unknown, schema: S): Promise<z.infer<S>> {
    const response = await fetch(this.baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).catch((e: unknown) => this.unreachable(path, e));
    return this.parse(path, response, schema);
  }

  private unreachable(path: string, error: unknown): never {
    throw new EngineError(`engine unreachable at ${this.baseUrl}${path}: ${(error as Error).message}`, { cause: error });
  }

  private async parse<S extends z.ZodType>(path: string, response: Response, schema: S): Promise<z.infer<S>> {
    const text = await response.text();
    if (!response.ok) throw new EngineError(`engine ${path} failed (${response.status}): ${text.slice(0, 300)}`, { status: response.status });
    const parsed = safeParseJson(text, schema);
    if (!parsed.success) throw new EngineError(`engine ${path} returned an unexpected body: ${parsed.error}`);
    return parsed.data;
  }
}
