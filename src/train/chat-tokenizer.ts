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

const ChatIds = z.object({ prompt_token_ids: z.array(z.number().int()) }).loose();
const Info = z.object({ eos_token_ids: z.array(z.number().int()).default([]) }).loose();

/**
 * Tokenizes through the engine itself (its chat endpoint reports `prompt_token_ids`), so SFT data is
 * rendered and tokenized by exactly the template and tokenizer the sampler uses. Results are cached.
 */
export class EngineChatTokenizer implements ChatTokenizer {
  private readonly baseUrl: string;
  private readonly cache = new Map<string, Promise<number[]>>();
  private eos: Promise<number[]> | undefined;

  constructor(options: { baseUrl: string }) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  }

  encodeChat(request: { messages: ChatMessage[]; tools?: readonly ToolSchema[] }): Promise<number[]> {
    const key = JSON.stringify(request);
    let hit = this.cache.get(key);
    if (!hit) {
      hit = this.post('/v1/chat/completions', { messages: request.messages, ...(request.tools?.length ? { tools: request.tools } : {}), max_tokens: 1, temperature: 0, return_token_ids: true }, ChatIds).then((r) => r.prompt_token_ids);
      hit.catch(() => this.cache.delete(key));
      this.cache.set(key, hit);
    }
    return hit;
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
