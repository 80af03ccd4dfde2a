import { afterEach, describe, expect, it, vi } from 'vitest';
import { handleInterrupts } from './interrupt.js';

describe('handleInterrupts', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s: the first aborts the work, the second exits at once with %i', (sig, code) => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const seen: string[] = [];
    const interrupt = handleInterrupts((s) => seen.push(s));
    try {
      process.emit(sig);
      expect(interrupt.signal.aborted).toBe(true);
      expect(interrupt.exitCode()).toBe(code);
      expect(seen).toEqual([sig]);
      expect(exit).not.toHaveBeenCalled();
      process.emit(sig === 'SIGINT' ? 'SIGTERM' : 'SIGINT'); // any second signal
      expect(exit).toHaveBeenCalledWith(code);
    } finally {
      interrupt.dispose();
    }
    expect(process.listenerCount(sig)).toBe(0);
  });
});
