import type { Command } from 'commander';

/** Registers `keiko train`. */
export function register(_program: Command): void {}
