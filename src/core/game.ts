import type { Rng } from './rng.js';

/**
 * A turn-based game for several roles on one shared state: the multi-agent counterpart of an
 * `Environment`. The game owns the rules; who plays each role (the policy being trained, a frozen
 * snapshot of it, a scripted player, any OpenAI-compatible model) is chosen when a match is played.
 * State objects are treated as immutable: `applyMove` returns a new one.
 *
 * Hidden information stays hidden because a role only ever sees `observe(state, role)`.
 */
export interface Game<S = unknown> {
  readonly name: string;
  /** Role names in seating order, e.g. `['X', 'O']`; at least two. */
  readonly roles: readonly string[];
  /** A fresh game (cards dealt, board empty); the rng is the only source of chance. */
  setupState(rng: Rng): S;
  /** The role to move, or null when the game is over. */
  toMove(state: S): string | null;
  /** What `role` may see, as the text shown to a model (its hand, the board; never another's hand). */
  observe(state: S, role: string): string;
  /** The moves allowed now, in canonical form. */
  legalMoves(state: S): readonly string[];
  /** A model's reply → the canonical move it names, or undefined when it names none. Legality is checked separately. */
  parseMove(text: string, state: S): string | undefined;
  /** The state after the player to move makes `move` (a legal canonical move). */
  applyMove(state: S, move: string): S;
  /** Rewards per role of a finished game (zero-sum games sum to 0). */
  outcome(state: S): Record<string, number>;
  /** One line for logs and the move-by-move view of a finished game. */
  describe(state: S): string;
}

/** One move of a played game, as it is logged and shown move by move. */
export interface GameMove {
  role: string;
  /** Who played it: `policy`, `snapshot:<id>`, `scripted:<name>`, `model:<name>`. */
  player: string;
  /** The raw reply (scripted players write the move itself). */
  text: string;
  /** The canonical move, or null for an illegal or unparseable reply. */
  move: string | null;
}
