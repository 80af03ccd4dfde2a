import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { builtInGame } from './builtin.js';
import { KUHN_INFOSETS, KUHN_NASH, kuhnExploitability, kuhnPoker, kuhnValue } from './kuhn-poker.js';
import { nim, nimOptimalMove } from './nim.js';
import { playMatches } from './play.js';
import { randomPlayer } from './players.js';
import { ticTacToe, ticTacToeBestMoves, ticTacToeValue } from './tic-tac-toe.js';

describe('tic-tac-toe', () => {
  const game = ticTacToe();
  it('minimax: the empty board is a draw; a win in one is found; a fork must be blocked', () => {
    const s0 = game.setupState(new Rng(0));
    expect(ticTacToeValue(s0)).toBe(0);
    // X: 1, 2 — O: 4, 5 — X to move wins at 3.
    let s = s0;
    for (const m of ['1', '4', '2', '5']) s = game.applyMove(s, m);
    expect(ticTacToeBestMoves(s)).toEqual(['3']);
    expect(ticTacToeValue(s)).toBe(1);
    expect(() => game.applyMove(s, '1')).toThrow(/not free/);
  });

  it('the optimal player never loses to a random player, from either side', async () => {
    const { optimal } = builtInGame('tic-tac-toe');
    const random = randomPlayer();
    const matches = Array.from({ length: 60 }, (_, i) => ({ players: i % 2 ? { X: optimal, O: random } : { X: random, O: optimal } }));
    const records = await playMatches({ game, matches, rng: new Rng(1) });
    for (const r of records) {
      const optimalRole = r.players['X'] === optimal.id ? 'X' : 'O';
      expect(r.status).toBe('finished');
      expect(r.rewards[optimalRole]).toBeGreaterThanOrEqual(0);
    }
    expect(records.filter((r) => r.rewards[r.players['X'] === optimal.id ? 'X' : 'O'] === 1).length).toBeGreaterThan(40);
  });

  it('parses only a bare cell number', () => {
    const s = game.setupState(new Rng(0));
    expect(game.parseMove(' 5 ', s)).toBe('5');
    expect(game.parseMove('5 please', s)).toBeUndefined();
    expect(game.parseMove('0', s)).toBeUndefined();
  });
});

describe('nim', () => {
  it('the xor player wins [1,3,5] as first mover against random play, every time', async () => {
    const game = nim();
    const { optimal } = builtInGame('nim');
    const records = await playMatches({ game, matches: Array.from({ length: 30 }, () => ({ players: { first: optimal, second: randomPlayer() } })), rng: new Rng(2) });
    expect(records.every((r) => r.rewards['first'] === 1)).toBe(true);
  });
  it('the xor move leaves xor 0, and bad piles are refused with a clear error', () => {
    const rng = new Rng(3);
    const move = nimOptimalMove({ piles: [1, 3, 5], next: 0 }, rng);
    const after = nim().applyMove({ piles: [1, 3, 5], next: 0 }, move);
    expect(after.piles.reduce((a, b) => a ^ b, 0)).toBe(0);
    expect(() => nim({ piles: [0, 3] })).toThrow(ConfigError);
    expect(() => builtInGame('chess')).toThrow(/unknown game 'chess'; available: tic-tac-toe, kuhn-poker, nim/);
  });
});

describe('kuhn poker', () => {
  it('exploitability: 0 at the Nash equilibrium, 11/24 for uniform random, and the game value is −1/18', () => {
    expect(kuhnExploitability(KUHN_NASH)).toBeCloseTo(0, 12);
    const uniform = Object.fromEntries(KUHN_INFOSETS.map((i) => [i.key, 0.5]));
    expect(kuhnExploitability(uniform)).toBeCloseTo(11 / 24, 12);
    expect(kuhnValue(KUHN_NASH, KUHN_NASH)).toBeCloseTo(-1 / 18, 12);
    // Always betting/calling is exploitable by a best response that folds weak hands.
    const maniac = Object.fromEntries(KUHN_INFOSETS.map((i) => [i.key, 1]));
    expect(kuhnExploitability(maniac)).toBeCloseTo(1 / 3, 12);
  });

  it('each seat sees only its own card', () => {
    const game = kuhnPoker();
    const s = { cards: ['J', 'K'] as const, history: ['check'] as const };
    expect(game.observe(s as never, 'P1')).toContain('card J');
    expect(game.observe(s as never, 'P1')).not.toContain('K');
    expect(game.observe(s as never, 'P2')).toContain('card K');
    expect(game.observe(s as never, 'P2')).not.toMatch(/\bJ\b/);
    expect(game.legalMoves(s as never)).toEqual(['check', 'bet']);
  });
});
