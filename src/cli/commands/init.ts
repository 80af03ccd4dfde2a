import type { Command } from 'commander';

/** Registers `keiko init`. */
export function register(_program: Command): void {}
