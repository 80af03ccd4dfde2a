import type { Command } from 'commander';

/** Registers `keiko view`. */
export function register(_program: Command): void {}
