import type { Command } from 'commander';

/** Registers `keiko sft`. */
export function register(_program: Command): void {}
