import type { Command } from 'commander';

/** Registers `keiko runs`. */
export function register(_program: Command): void {}
