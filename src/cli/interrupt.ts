/**
 * How every long-running command stops on a signal. The first SIGINT (Ctrl-C) or SIGTERM aborts
 * `signal`: the command finishes its current unit of work, saves, stops its children and returns;
 * the command should then exit with `exitCode()` (130 for SIGINT, 143 for SIGTERM). A second
 * signal exits at once with that code; children are killed by `spawnChild`'s exit hook, and
 * everything on disk is written atomically or appended line by line, so nothing is corrupted.
 */
export interface Interrupt {
  /** Aborted at the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** 128 + the number of the first signal received, or undefined if none came. */
  exitCode(): number | undefined;
  /** Removes the handlers (call in a `finally`). */
  dispose(): void;
}

const CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** Installs the handlers; `onFirst` prints what the command is doing about it. */
export function handleInterrupts(onFirst: (signal: 'SIGINT' | 'SIGTERM') => void): Interrupt {
  const controller = new AbortController();
  let code: number | undefined;
  const handler = (sig: 'SIGINT' | 'SIGTERM') => {
    if (code !== undefined) process.exit(code); // second signal: stop now
    code = CODES[sig];
    onFirst(sig);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  const onInt = () => handler('SIGINT');
  const onTerm = () => handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    exitCode: () => code,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
