import type { Game } from '../../core/game.js';
import type { Rng } from '../../core/rng.js';

/** A tic-tac-toe position: cells 0..8 row by row, and who moves next. */
export interface TicTacToeState {
  board: readonly ('X' | 'O' | '.')[];
  next: 'X' | 'O';
}

const LINES = [
  [0, 1, 2], [3, 4, 5], [6, 7, 8],
  [0, 3, 6], [1, 4, 7], [2, 5, 8],
  [0, 4, 8], [2, 4, 6],
] as const;

/** 'X' or 'O' when that side has three in a row, else null. */
export function ticTacToeWinner(board: readonly string[]): 'X' | 'O' | null {
  for (const [a, b, c] of LINES) if (board[a] !== '.' && board[a] === board[b] && board[b] === board[c]) return board[a] as 'X' | 'O';
  return null;
}

function isOver(s: TicTacToeState): boolean {
  return ticTacToeWinner(s.board) !== null || !s.board.includes('.');
}

/**
 * Tic-tac-toe: X moves first; a move is the number of an empty cell, 1–9 row by row. A role sees
 * the cells each side holds and the free ones (`x 1 5 o 3 free 2 4 6 7 8 9 you o`). The winner
 * gets +1, the loser −1, a draw 0 each. Perfect play draws.
 */
export function ticTacToe(): Game<TicTacToeState> {
  return {
    name: 'tic-tac-toe',
    roles: ['X', 'O'],
    setupState: () => ({ board: Array<'.'>(9).fill('.'), next: 'X' }),
    toMove: (s) => (isOver(s) ? null : s.next),
    // The cells of each side and the free ones, as numbers: a tiny model reads digits more easily than a drawn grid.
    observe: (s, role) => {
      const cells = (c: string) => s.board.flatMap((x, i) => (x === c ? [String(i + 1)] : [])).join(' ') || '-';
      return `x ${cells('X')} o ${cells('O')} free ${cells('.')} you ${role.toLowerCase()}`;
    },
    legalMoves: (s) => (isOver(s) ? [] : s.board.flatMap((c, i) => (c === '.' ? [String(i + 1)] : []))),
    parseMove: (text) => {
      const m = /^\s*([1-9])\s*$/.exec(text);
      return m ? m[1] : undefined;
    },
    applyMove: (s, move) => {
      const i = Number(move) - 1;
      if (!(i >= 0 && i < 9) || s.board[i] !== '.') throw new RangeError(`tic-tac-toe: cell ${move} is not free`);
      const board = s.board.slice();
      board[i] = s.next;
      return { board, next: s.next === 'X' ? 'O' : 'X' };
    },
    outcome: (s) => {
      const w = ticTacToeWinner(s.board);
      return w === null ? { X: 0, O: 0 } : w === 'X' ? { X: 1, O: -1 } : { X: -1, O: 1 };
    },
    describe: (s) => [0, 3, 6].map((r) => s.board.slice(r, r + 3).join('')).join('/'),
  };
}

const memo = new Map<string, number>();

/** Minimax value of a position for the side to move: +1 win, 0 draw, −1 loss under perfect play. */
export function ticTacToeValue(s: TicTacToeState): number {
  const key = s.board.join('') + s.next;
  const hit = memo.get(key);
  if (hit !== undefined) return hit;
  const w = ticTacToeWinner(s.board);
  let v: number;
  if (w !== null) v = w === s.next ? 1 : -1;
  else if (!s.board.includes('.')) v = 0;
  else {
    v = -Infinity;
    const game = ticTacToe();
    for (const m of game.legalMoves(s)) v = Math.max(v, 0 - ticTacToeValue(game.applyMove(s, m)));
    if (v === 0) v = 0; // no -0
  }
  memo.set(key, v);
  return v;
}

/** Every move that keeps the minimax value (the optimal moves). */
export function ticTacToeBestMoves(s: TicTacToeState): string[] {
  const game = ticTacToe();
  const scored = game.legalMoves(s).map((m) => ({ m, v: -ticTacToeValue(game.applyMove(s, m)) }));
  const best = Math.max(...scored.map((x) => x.v));
  return scored.filter((x) => x.v === best).map((x) => x.m);
}

/** The optimal player's move: uniform among the minimax-optimal moves (so it is hard to exploit by rote). */
export function ticTacToeOptimalMove(s: TicTacToeState, rng: Rng): string {
  return rng.choice(ticTacToeBestMoves(s));
}
