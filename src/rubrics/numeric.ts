const NUMBER_RE = /[-+]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?/g;

/**
 * Reads a number from model text: the whole text when it is one number (commas, `$`, `%` and
 * spaces ignored), otherwise the last number in it. `undefined` when there is none.
 */
export function parseNumber(text: string | number | undefined | null): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) ? text : undefined;
  if (typeof text !== 'string') return undefined;
  const cleaned = text.replace(/[\s$%]/g, '').replace(/,(?=\d{3}\b)/g, '');
  if (cleaned !== '' && Number.isFinite(Number(cleaned))) return Number(cleaned);
  const matches = text.match(NUMBER_RE);
  if (!matches) return undefined;
  const value = Number(matches[matches.length - 1]!.replace(/,/g, ''));
  return Number.isFinite(value) ? value : undefined;
}

export interface NumericEqualOptions {
  /** Absolute tolerance. Default 1e-9. */
  absTol?: number;
  /** Relative tolerance (fraction of the larger magnitude). Default 1e-6. */
  relTol?: number;
}

/** True when both sides parse as numbers that agree within the tolerances. */
export function numericEqual(
  prediction: string | number | undefined | null,
  gold: string | number | undefined | null,
  options: NumericEqualOptions = {},
): boolean {
  const p = parseNumber(prediction);
  const g = parseNumber(gold);
  if (p === undefined || g === undefined) return false;
  const { absTol = 1e-9, relTol = 1e-6 } = options;
  return Math.abs(p - g) <= Math.max(absTol, relTol * Math.max(Math.abs(p), Math.abs(g)));
}
