import { SamplerError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/** How a sampler retries failed requests. */
export interface RetryPolicy {
  /** Retries after the first attempt (0 = no retry). */
  maxRetries: number;
  /** Delay before the first retry, doubled each time. */
  baseDelayMs: number;
  /** Upper bound on one delay. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 3, baseDelayMs: 200, maxDelayMs: 5_000 };

/** Delay before retry number `attempt` (0-based): exponential, capped, with ±50 % seeded jitter. */
export function backoffDelay(policy: RetryPolicy, attempt: number, rng: Rng): number {
  const raw = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return raw * (0.5 + rng.next());
}

/**
 * Runs `attempt` until it succeeds, retrying `SamplerError`s marked retryable with exponential
 * backoff. Aborting `signal` stops at once (also during a backoff sleep).
 */
export async function withRetries<T>(options: {
  attempt: (attemptIndex: number) => Promise<T>;
  policy: RetryPolicy;
  rng: Rng;
  signal?: AbortSignal | undefined;
  /** Called before each backoff sleep (for logs and counters). */
  onRetry?: (error: SamplerError, attemptIndex: number, delayMs: number) => void;
}): Promise<T> {
  const { attempt, policy, rng, signal } = options;
  for (let i = 0; ; i++) {
    try {
      return await attempt(i);
    } catch (error) {
      const retryable = error instanceof SamplerError && error.retryable;
      if (!retryable || i >= policy.maxRetries || signal?.aborted) {
        if (error instanceof SamplerError && retryable && i > 0) {
          throw new SamplerError(`${error.message} (after ${i + 1} attempts)`, {
            cause: error.cause ?? error,
            retryable: true,
            ...(error.status !== undefined ? { status: error.status } : {}),
          });
        }
        throw error;
      }
      const delay = backoffDelay(policy, i, rng);
      options.onRetry?.(error, i, delay);
      await sleep(delay, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new SamplerError('request aborted', { retryable: false, cause: signal.reason }));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new SamplerError('request aborted', { retryable: false, cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
