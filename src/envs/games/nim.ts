import type { Game } from '../../core/game.js';
import { ConfigError } from '../../core/errors.js';
import type { Rng } from '../../core/rng.js';

/** A Nim position: the piles and the index (0 or 1) of the role to move. */
export interface NimState {
  piles: readonly number[];
  next: 0 | 1;
}

const ROLES = ['first', 'second'] as const;

/**
 * Nim, normal play: two roles take turns removing one or more objects from one pile; whoever takes
 * the last object wins (+1, the other −1). A move is `<pile> <count>` with piles numbered from 1.
 * The known strategy: leave piles whose bitwise xor is 0.
 */
export function nim(options: { piles?: readonly number[] } = {}): Game<NimState> {
  const piles = options.piles ?? [1, 3, 5];
  if (piles.length === 0 || piles.length > 9 || piles.some((p) => !Number.isInteger(p) || p < 1 || p > 9)) {
    throw new ConfigError(`nim piles must be 1 to 9 piles of 1 to 9 objects, not [${piles.join(', ')}]`);
  }
  const over = (s: NimState) => s.piles.every((p) => p === 0);
  return {
    name: 'nim',
    roles: ROLES,
    setupState: () => ({ piles: piles.slice(), next: 0 }),
    toMove: (s) => (over(s) ? null : ROLES[s.next]),
    observe: (s) => `piles ${s.piles.join(' ')} move`,
    legalMoves: (s) => nimLegalMoves(s.piles),
    parseMove: (text) => {
      const m = /^\s*([1-9]) ([1-9])\s*$/.exec(text);
      return m ? `${m[1]} ${m[2]}` : undefined;
    },
    applyMove: (s, move) => {
      const [pile, count] = move.split(' ').map(Number) as [number, number];
      if (!(s.piles[pile - 1]! >= count && count >= 1)) throw new RangeError(`nim: cannot take ${count} from pile ${pile}`);
      const next = s.piles.slice();
      next[pile - 1] = next[pile - 1]! - count;
      return { piles: next, next: s.next === 0 ? 1 : 0 };
    },
    // The role that moved last (took the last object) wins; `next` is the other one.
    outcome: (s) => (s.next === 1 ? { first: 1, second: -1 } : { first: -1, second: 1 }),
    describe: (s) => s.piles.join(' '),
  };
}

/** The optimal move: one leaving xor 0 when there is one (uniform among them), else a uniform legal move. */
export function nimOptimalMove(s: NimState, rng: Rng): string {
  const x = s.piles.reduce((a, b) => a ^ b, 0);
  const winning = s.piles.flatMap((p, i) => ((p ^ x) < p ? [`${i + 1} ${p - (p ^ x)}`] : []));
  if (winning.length > 0) return rng.choice(winning);
  return rng.choice(nimLegalMoves(s.piles));
}

/** Every `<pile> <count>` move on these piles. */
export function nimLegalMoves(piles: readonly number[]): string[] {
  return piles.flatMap((p, i) => Array.from({ length: p }, (_, k) => `${i + 1} ${k + 1}`));
}
