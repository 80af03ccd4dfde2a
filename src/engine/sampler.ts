import { z } from 'zod';
import { SamplerError } from '../core/errors.js';
import type { CallOptions, ChatRequest, ChatResponse, Sampler } from '../core/sampler.js';
import { OpenAISampler } from '../samplers/openai-sampler.js';
import { toChatResponse } from '../samplers/openai-response.js';

/** A sampler that can send several chat requests in one call (keiko's engine). */
export interface BatchChatSampler extends Sampler {
  /**
   * Samples every request in one call. Each slot holds that request's response, or the error that
   * request alone got (the others are still served); a failure of the whole call rejects.
   */
  chatMany(requests: readonly ChatRequest[], options?: CallOptions): Promise<(ChatResponse | SamplerError)[]>;
}

/** Whether `sampler` offers `chatMany`. */
export function isBatchChatSampler(sampler: Sampler): sampler is BatchChatSampler {
  return typeof (sampler as Partial<BatchChatSampler>).chatMany === 'function';
}

const BatchBody = z.looseObject({ data: z.array(z.unknown()) });
const ItemError = z.looseObject({ error: z.looseObject({ message: z.string() }), status: z.number().int().nullish() });

/**
 * The `OpenAISampler` for keiko's engine: the OpenAI-compatible endpoints, plus `chatMany` over the
 * engine's `POST /v1/chat/completions/batch` (engine/API.md), which samples all the requests in one
 * generation pass instead of one HTTP request (and possibly one pass) each.
 */
export class EngineSampler extends OpenAISampler implements BatchChatSampler {
  async chatMany(requests: readonly ChatRequest[], options?: CallOptions): Promise<(ChatResponse | SamplerError)[]> {
    if (requests.length === 0) return [];
    const prepared = requests.map((r) => this.chatBody(r));
    const raw = await this.send(options?.signal, (client, signal) =>
      client.post<unknown>('/chat/completions/batch', { body: { requests: prepared.map((p) => p.body) }, signal, timeout: this.timeoutMs }),
    );
    const parsed = BatchBody.safeParse(raw);
    if (!parsed.success || parsed.data.data.length !== requests.length) {
      const got = parsed.success ? `${parsed.data.data.length} items for ${requests.length} requests` : 'no data list';
      throw new SamplerError(`malformed batch chat response from the engine (${got}); is the server keiko's engine?`, { retryable: false });
    }
    return parsed.data.data.map((item, k) => {
      const error = ItemError.safeParse(item);
      if (error.success) return new SamplerError(`engine rejected chat request: ${error.data.error.message}`, { status: error.data.status ?? 400, retryable: false });
      try {
        return toChatResponse(item, this.model, prepared[k]!.wantTokens);
      } catch (e) {
        return e instanceof SamplerError ? e : new SamplerError(`batch item ${k}: ${(e as Error).message}`, { cause: e, retryable: false });
      }
    });
  }
}
