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

/** What a script prints for an error: one line for keiko's own errors, the stack for anything else. */
export function errorMessage(error: unknown): string {
  return error instanceof KeikoError ? `${error.name}: ${error.message}` : String((error as Error)?.stack ?? error);
}

/** 2 for a usage or configuration mistake, 1 for any other failure. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof ConfigError) return EXIT.usage;
  return EXIT.failure;
}
