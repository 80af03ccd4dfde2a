import { CommanderError, type Command } from 'commander';
import { ConfigError, KeikoError } from '../core/index.js';

/** Exit codes: 0 ok, 1 run failure, 2 usage/config error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * Parses argv and runs the matching command; maps errors to one clear message and an exit code.
 * Commands signal user mistakes with `ConfigError`.
 */
export async function runCli(program: Command, argv: string[]): Promise<void> {
  program.exitOverride();
  program.showSuggestionAfterError(true);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = exitCodeFor(error);
    if (error instanceof CommanderError) return; // commander already printed its message
    process.stderr.write(`keiko: ${errorMessage(error)}\n`);
  }
}

/** File-system failures that are the machine's or the user's, not a keiko bug: one line, no stack. */
const DISK_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a path component is not a folder',
  EISDIR: 'is a folder',
};

/** What a script prints for an error: one line for keiko's own errors and for disk/path failures, the stack for anything else. */
export function errorMessage(error: unknown): string {
  if (error instanceof KeikoError) return `${error.name}: ${error.message}`;
  const sys = error as NodeJS.ErrnoException | undefined;
  const what = sys?.code ? DISK_ERRORS[sys.code] : undefined;
  if (what) return `cannot ${sys!.syscall ?? 'write'} ${sys!.path ?? ''}: ${what} (${sys!.code})`.replace('  ', ' ');
  return String((error as Error)?.stack ?? error);
}

/** 2 for a usage or configuration mistake, 1 for any other failure. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof ConfigError) return EXIT.usage;
  return EXIT.failure;
}
