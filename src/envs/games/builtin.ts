import type { Game } from '../../core/game.js';
import { ConfigError, unknownNameMessage } from '../../core/errors.js';
import { KUHN_NASH, kuhnPoker, kuhnStrategyMove, type KuhnState } from './kuhn-poker.js';
import { nim, nimOptimalMove, type NimState } from './nim.js';
import { scriptedPlayer, type Player } from './players.js';
import { ticTacToe, ticTacToeOptimalMove, type TicTacToeState } from './tic-tac-toe.js';

/** A built-in game with its known optimal (or equilibrium) scripted player. */
export interface BuiltInGame {
  game: Game;
  /** Minimax for tic-tac-toe, the xor strategy for Nim, a Nash equilibrium for Kuhn poker. */
  optimal: Player;
}

export const BUILT_IN_GAMES = ['tic-tac-toe', 'kuhn-poker', 'nim'] as const;

/** A built-in game by name (`tic-tac-toe`, `kuhn-poker`, `nim`); a `ConfigError` lists the names otherwise. */
export function builtInGame(name: string): BuiltInGame {
  switch (name) {
    case 'tic-tac-toe':
      return { game: ticTacToe() as Game, optimal: scriptedPlayer<TicTacToeState>({ name: 'minimax', move: ticTacToeOptimalMove }) };
    case 'kuhn-poker':
      return { game: kuhnPoker() as Game, optimal: scriptedPlayer<KuhnState>({ name: 'nash', move: (s, rng) => kuhnStrategyMove(KUHN_NASH, s, rng) }) };
    case 'nim':
      return { game: nim() as Game, optimal: scriptedPlayer<NimState>({ name: 'xor', move: nimOptimalMove }) };
    default:
      throw new ConfigError(unknownNameMessage('game', name, BUILT_IN_GAMES));
  }
}
