import { describe, expect, it } from 'vitest';
import { SamplerError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { backoffDelay, withRetries } from './retry.js';

const policy = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 4 };

describe('withRetries', () => {
  it('retries retryable errors until success', async () => {
    let calls = 0;
    const out = await withRetries({
      policy,
      rng: new Rng(1),
      attempt: async () => {
        if (++calls < 3) throw new SamplerError('flaky', { status: 503 });
        return 'ok';
      },
    });
    expect(out).toBe('ok');
    expect(calls).toBe(3);
  });

  it('does not retry non-retryable errors or plain errors', async () => {
    let calls = 0;
    const attempt = async () => {
      calls++;
      throw new SamplerError('bad request', { status: 400, retryable: false });
    };
    await expect(withRetries({ policy, rng: new Rng(1), attempt })).rejects.toThrow('bad request');
    expect(calls).toBe(1);
    await expect(withRetries({ policy, rng: new Rng(1), attempt: async () => Promise.reject(new TypeError('bug')) })).rejects.toThrow(TypeError);
  });

  it('backs off exponentially with a cap', () => {
    const rng = new Rng(3);
    const p = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    for (const [attempt, raw] of [[0, 100], [1, 200], [3, 800], [6, 1000]] as const) {
      const d = backoffDelay(p, attempt, rng);
      expect(d).toBeGreaterThanOrEqual(raw * 0.5);
      expect(d).toBeLessThan(raw * 1.5);
    }
  });

  it('stops sleeping when aborted', async () => {
    const controller = new AbortController();
    const pending = withRetries({
      policy: { maxRetries: 3, baseDelayMs: 10_000, maxDelayMs: 10_000 },
      rng: new Rng(1),
      signal: controller.signal,
      attempt: async () => {
        throw new SamplerError('down', { status: 503 });
      },
    });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toThrow(/aborted/);
  });
});
