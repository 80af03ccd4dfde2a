import type { Command } from 'commander';

/** Registers `keiko search`. */
export function register(_program: Command): void {}
