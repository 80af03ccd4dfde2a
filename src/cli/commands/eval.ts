import type { Command } from 'commander';

/** Registers `keiko eval`. */
export function register(_program: Command): void {}
