import type { CallOptions, ChatRequest, ChatResponse, Sampler } from '../core/sampler.js';

interface Waiter {
  resolve: (response: ChatResponse) => void;
  reject: (error: unknown) => void;
}

interface Pending {
  request: ChatRequest;
  waiters: Waiter[];
}

/**
 * Merges identical single-choice chat requests issued in the same tick (same messages, tools and
 * sampling apart from `seed`) into one request with `n` choices, and hands each caller one choice.
 * GRPO's `groupSize` rollouts of a prompt start together, so a step sends one request per prompt
 * instead of one per rollout. The merged request carries the first caller's seed; which choice goes
 * to which caller follows call order, so a run stays reproducible. Requests with an abort signal
 * or `n > 1` pass straight through.
 */
export class CoalescingSampler implements Sampler {
  readonly model: string;
  private readonly inner: Sampler;
  private readonly maxN: number;
  private pending = new Map<string, Pending>();
  private scheduled = false;

  get baseUrls(): readonly string[] | undefined {
    return this.inner.baseUrls;
  }

  constructor(options: { sampler: Sampler; maxN?: number }) {
    this.inner = options.sampler;
    this.model = options.sampler.model;
    this.maxN = options.maxN ?? 64;
  }

  chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse> {
    if ((request.n ?? 1) !== 1 || options?.signal) return this.inner.chat(request, options);
    const { seed: _seed, ...sampling } = request.sampling ?? {};
    const key = JSON.stringify([request.messages, request.tools ?? null, sampling]);
    return new Promise<ChatResponse>((resolve, reject) => {
      let entry = this.pending.get(key);
      if (!entry || entry.waiters.length >= this.maxN) {
        if (entry) this.flush(key, entry);
        entry = { request, waiters: [] };
        this.pending.set(key, entry);
      }
      entry.waiters.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flushAll());
      }
    });
  }

  private flushAll(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = new Map();
    for (const [key, entry] of all) this.flush(key, entry);
  }

  private flush(key: string, entry: Pending): void {
    if (this.pending.get(key) === entry) this.pending.delete(key);
    const n = entry.waiters.length;
    this.inner.chat({ ...entry.request, n }).then(
      (response) => {
        entry.waiters.forEach((w, i) => {
          const choice = response.choices[i];
          if (!choice) {
            w.reject(new Error(`sampler returned ${response.choices.length} choices for n=${n}`));
            return;
          }
          const completionTokens = choice.tokens?.completionIds.length ?? Math.round(response.usage.completionTokens / n);
          w.resolve({ ...response, choices: [choice], usage: { promptTokens: response.usage.promptTokens, completionTokens } });
        });
      },
      (error: unknown) => entry.waiters.forEach((w) => w.reject(error)),
    );
  }
}
