import type { Game, GameMove } from '../../core/game.js';
import type { Rng } from '../../core/rng.js';
import type { Turn } from '../../core/trajectory.js';
import type { Player } from './players.js';

/** How a played game ended. `illegal`: a player named no legal move; `error`: a sampler failed (no one's fault); `truncated`: `maxMoves` reached. */
export type GameStatus = 'finished' | 'illegal' | 'error' | 'truncated';

/** One played game: who played which role, every move, the outcome, and the training turns. */
export interface GameRecord {
  game: string;
  /** Role → player id. */
  players: Record<string, string>;
  moves: GameMove[];
  /** Reward per role (the game's outcome, or the illegal-move penalty). */
  rewards: Record<string, number>;
  status: GameStatus;
  /** The role whose reply was illegal or unparseable. */
  illegalBy?: string;
  /** `game.describe` of the final state. */
  final: string;
  /** The turns of players with `trains`, with their role, in order of play. */
  turns: { role: string; turn: Turn }[];
  error?: string;
}

/** One match to play: a player for every role of the game. */
export interface Match {
  players: Record<string, Player>;
}

/**
 * Plays `matches` of `game` side by side, in rounds: each round, every unfinished game asks the
 * player to move for one move, and each player answers all of its moves of the round in one
 * `actMany` call (one batched sampler request for a model). A reply that names no legal move ends
 * the game: the offender gets `illegalPenalty` and every other role 0. A sampler failure ends the
 * game with status `error` (rewards 0, not trained on). Game `i` draws its chance and its players'
 * seeds from `rng.fork(i)`, so results do not depend on timing.
 */
export async function playMatches<S>(options: { game: Game<S>; matches: readonly Match[]; rng: Rng; illegalPenalty?: number; maxMoves?: number }): Promise<GameRecord[]> {
  const { game, matches } = options;
  const penalty = options.illegalPenalty ?? -1;
  const maxMoves = options.maxMoves ?? 100;
  for (const [i, m] of matches.entries()) {
    const missing = game.roles.filter((r) => !m.players[r]);
    if (missing.length) throw new RangeError(`match ${i}: no player for role(s) ${missing.join(', ')} of ${game.name}`);
  }
  const live = matches.map((m, i) => {
    const rng = options.rng.fork(i);
    const state = game.setupState(rng);
    const record: GameRecord = { game: game.name, players: Object.fromEntries(game.roles.map((r) => [r, m.players[r]!.id])), moves: [], rewards: {}, status: 'finished', final: '', turns: [] };
    return { match: m, rng, state, record, done: false };
  });
  const zero = () => Object.fromEntries(game.roles.map((r) => [r, 0]));
  const end = (g: (typeof live)[number], status: GameStatus, rewards: Record<string, number>) => {
    g.done = true;
    g.record.status = status;
    g.record.rewards = rewards;
    g.record.final = game.describe(g.state);
  };
  for (const g of live) if (game.toMove(g.state) === null) end(g, 'finished', game.outcome(g.state));
  while (live.some((g) => !g.done)) {
    const byPlayer = new Map<Player, { g: (typeof live)[number]; role: string }[]>();
    for (const g of live) {
      if (g.done) continue;
      if (g.record.moves.length >= maxMoves) {
        end(g, 'truncated', zero());
        continue;
      }
      const role = game.toMove(g.state)!;
      const player = g.match.players[role]!;
      byPlayer.set(player, [...(byPlayer.get(player) ?? []), { g, role }]);
    }
    await Promise.all(
      [...byPlayer].map(async ([player, asks]) => {
        const replies = await player.actMany(asks.map(({ g, role }) => ({ role, observation: game.observe(g.state, role), legalMoves: game.legalMoves(g.state), state: g.state, rng: g.rng.fork(g.record.moves.length) })));
        asks.forEach(({ g, role }, k) => {
          const reply = replies[k]!;
          if (reply.turn && player.trains) g.record.turns.push({ role, turn: reply.turn });
          if (reply.error) {
            g.record.error = reply.error.message;
            g.record.moves.push({ role, player: player.id, text: reply.text, move: null });
            end(g, 'error', zero());
            return;
          }
          const parsed = game.parseMove(reply.text, g.state);
          const legal = parsed !== undefined && game.legalMoves(g.state).includes(parsed);
          g.record.moves.push({ role, player: player.id, text: reply.text, move: legal ? parsed : null });
          if (!legal) {
            g.record.illegalBy = role;
            end(g, 'illegal', { ...zero(), [role]: penalty });
            return;
          }
          g.state = game.applyMove(g.state, parsed);
          if (game.toMove(g.state) === null) end(g, 'finished', game.outcome(g.state));
        });
      }),
    );
  }
  return live.map((g) => g.record);
}
