import type { Command } from 'commander';

/** Registers `keiko report`. */
export function register(_program: Command): void {}
