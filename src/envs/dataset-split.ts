import { ConfigError, Rng } from '../core/index.js';

export interface SplitDatasetOptions<T> {
  rows: readonly T[];
  /** Fraction of rows held out for evaluation, in (0, 1). */
  evalFraction?: number;
  /** Number of rows held out (instead of a fraction). */
  evalSize?: number;
  /** Seed for the shuffle before splitting. Default 0. */
  seed?: number;
  /** Shuffle before splitting. Default true. */
  shuffle?: boolean;
}

/** Splits rows into train and eval parts, reproducibly from `seed`. */
export function splitDataset<T>(options: SplitDatasetOptions<T>): { train: T[]; eval: T[] } {
  const { rows, evalFraction, evalSize, seed = 0, shuffle = true } = options;
  if ((evalFraction === undefined) === (evalSize === undefined)) {
    throw new ConfigError('splitDataset needs exactly one of evalFraction or evalSize');
  }
  let n: number;
  if (evalFraction !== undefined) {
    if (!(evalFraction > 0 && evalFraction < 1)) throw new ConfigError(`evalFraction must be in (0, 1), got ${evalFraction}`);
    n = Math.max(1, Math.round(rows.length * evalFraction));
  } else {
    n = evalSize!;
    if (!Number.isInteger(n) || n < 0 || n > rows.length) {
      throw new ConfigError(`evalSize must be an integer in [0, ${rows.length}], got ${n}`);
    }
  }
  const ordered = shuffle ? new Rng(seed).shuffle(rows) : rows.slice();
  return { eval: ordered.slice(0, n), train: ordered.slice(n) };
}
