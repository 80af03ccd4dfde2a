import type { Command } from 'commander';

/** Registers `keiko engine`. */
export function register(_program: Command): void {}
