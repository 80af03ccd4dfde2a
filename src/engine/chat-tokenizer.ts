import { EngineError } from '../core/errors.js';
import type { ChatMessage, ToolSchema } from '../core/messages.js';
import { EngineHttp } from './http.js';

/** Renders chat messages with the model's template and returns the token ids (with generation prompt). */
export interface ChatTokenizer {
  /** Ids of `messages` rendered with `add_generation_prompt` — exactly what the sampler would condition on. */
  encodeChat(request: { messages: ChatMessage[]; tools?: readonly ToolSchema[] }): Promise<number[]>;
  /** End-of-turn / end-of-sequence token ids. */
  eosIds(): Promise<number[]>;
}

type ChatRequest = { messages: ChatMessage[]; tools?: readonly ToolSchema[] };

/**
 * Tokenizes through the engine itself (`POST /v1/chat/tokenize`: its chat template and tokenizer,
 * no model run), so SFT data is rendered and tokenized exactly as the sampler will see it. Requests
 * made in the same tick go in one call; results are cached.
 */
export class EngineChatTokenizer implements ChatTokenizer {
  private readonly http: EngineHttp;
  private readonly cache = new Map<string, Promise<number[]>>();
  private eos: Promise<number[]> | undefined;
  private pending: { request: ChatRequest; resolve: (ids: number[]) => void; reject: (error: unknown) => void }[] = [];

  /** On an engine's routes (`EngineClient.routes`), or at a base URL (with or without /v1). */
  constructor(options: { http: EngineHttp } | { baseUrl: string }) {
    this.http = 'http' in options ? options.http : new EngineHttp(options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, ''));
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
      const reply = await this.http.call('tokenize', { requests });
      if (reply.data.length !== batch.length) throw new EngineError(`engine /v1/chat/tokenize returned ${reply.data.length} items for ${batch.length} requests`);
      batch.forEach((item, i) => item.resolve(reply.data[i]!.promptTokenIds));
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  }

  eosIds(): Promise<number[]> {
    this.eos ??= this.http.call('info').then((r) => r.eosTokenIds);
    return this.eos;
  }
}
