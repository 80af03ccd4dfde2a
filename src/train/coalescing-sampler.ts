import type { SamplerError } from '../core/errors.js';
import type { CallOptions, ChatRequest, ChatResponse, Sampler } from '../core/sampler.js';
import { isBatchChatSampler } from '../engine/sampler.js';

interface Waiter {
  resolve: (response: ChatResponse) => void;
  reject: (error: unknown) => void;
}

interface Pending {
  request: ChatRequest;
  waiters: Waiter[];
}

/**
 * Merges the single-choice chat requests of one rollout group issued in the same tick into one
 * request with `n` choices, and hands each caller one choice. GRPO's `groupSize` rollouts of a prompt
 * start together, so a step sends one request per group instead of one per rollout; when the inner
 * sampler has `chatMany` (keiko's engine), all of a tick's requests go out in one call, so a step's
 * prompts are sampled in one generation pass.
 *
 * Which requests merge: the same `groupId` (set where the group was scheduled) and the same
 * messages, tools and sampling apart from `seed`. Messages still count inside a group: after the
 * first turn a multi-turn group's members diverge. Two groups never merge, even with equal prompts.
 * Requests without a `groupId` merge by messages, tools and sampling alone (the fallback).
 *
 * Seeds: a merged request carries the seed of its first caller; the other callers' seeds are not
 * sent, and the `n` choices are drawn from that one seed. Which choice goes to which caller follows
 * call order (the scheduler's slot order), so a run stays reproducible. Requests with an abort signal
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
    const key = JSON.stringify([request.groupId ?? null, request.messages, request.tools ?? null, sampling]);
    return new Promise<ChatResponse>((resolve, reject) => {
      let entry = this.pending.get(key);
      if (!entry || entry.waiters.length >= this.maxN) {
        if (entry) this.send([entry]); // full: it goes now, a new one collects the rest
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
    const entries = [...this.pending.values()];
    this.pending = new Map();
    this.send(entries);
  }

  /** One request per entry (with `n` = its callers): all in one `chatMany` call when the inner sampler has it, else one `chat` each. */
  private send(entries: Pending[]): void {
    const inner = this.inner;
    const request = (e: Pending): ChatRequest => ({ ...e.request, n: e.waiters.length });
    if (entries.length > 1 && isBatchChatSampler(inner)) {
      inner.chatMany(entries.map(request)).then(
        (responses) => entries.forEach((entry, k) => deliver(entry, responses[k])),
        (error: unknown) => entries.forEach((entry) => fail(entry, error)),
      );
      return;
    }
    for (const entry of entries) {
      inner.chat(request(entry)).then(
        (response) => deliver(entry, response),
        (error: unknown) => fail(entry, error),
      );
    }
  }
}

/** Rejects every waiter of `entry` with `error`. */
function fail(entry: Pending, error: unknown): void {
  for (const w of entry.waiters) w.reject(error);
}

/** Hands each waiter of `entry` its own choice of `response` (or the entry's error). */
function deliver(entry: Pending, response: ChatResponse | SamplerError | undefined): void {
  const n = entry.waiters.length;
  if (!response || response instanceof Error) {
    fail(entry, response ?? new Error(`sampler returned no response for a batched request (n=${n})`));
    return;
  }
  entry.waiters.forEach((w, i) => {
    const choice = response.choices[i];
    if (!choice) {
      w.reject(new Error(`sampler returned ${response.choices.length} choices for n=${n}`));
      return;
    }
    const completionTokens = choice.tokens?.completionIds.length ?? Math.round(response.usage.completionTokens / n);
    w.resolve({ ...response, choices: [choice], usage: { promptTokens: response.usage.promptTokens, completionTokens } });
  });
}
