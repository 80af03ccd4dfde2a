import type { Game } from '../core/game.js';
import type { Rng } from '../core/rng.js';
import type { Sampler } from '../core/sampler.js';
import { KUHN_INFOSETS, kuhnExploitability, kuhnLegal, kuhnPoker, type KuhnStrategy } from '../envs/games/kuhn-poker.js';
import { playMatches, type GameRecord } from '../envs/games/play.js';
import type { Player } from '../envs/games/players.js';

/** Results of one seat: wins, draws, losses and how many of the losses were illegal moves. */
export interface SeatResult {
  games: number;
  wins: number;
  draws: number;
  losses: number;
  illegal: number;
  /** Games that ended in a sampler error (counted in none of the above). */
  errors: number;
  /** Mean reward of the player in this seat. */
  meanReward: number;
}

/** A head-to-head evaluation: per seat of `player`, and every game for the move-by-move view. */
export interface HeadToHead {
  bySeat: Record<string, SeatResult>;
  records: GameRecord[];
}

/**
 * `player` against `opponent`, `gamesPerSide` games in each seat of the game (the opponent takes
 * every other seat). A result is a win/draw/loss by the sign of the player's reward; an illegal
 * move by the player is a loss and is also counted as `illegal`.
 */
export async function headToHead(options: { game: Game; player: Player; opponent: Player; gamesPerSide: number; rng: Rng; illegalPenalty?: number }): Promise<HeadToHead> {
  const { game, player, opponent } = options;
  const bySeat: Record<string, SeatResult> = {};
  const records: GameRecord[] = [];
  for (const [k, seat] of game.roles.entries()) {
    const matches = Array.from({ length: options.gamesPerSide }, () => ({ players: Object.fromEntries(game.roles.map((r) => [r, r === seat ? player : opponent])) }));
    const played = await playMatches({ game, matches, rng: options.rng.fork(k), ...(options.illegalPenalty !== undefined ? { illegalPenalty: options.illegalPenalty } : {}) });
    const result: SeatResult = { games: played.length, wins: 0, draws: 0, losses: 0, illegal: 0, errors: 0, meanReward: 0 };
    for (const r of played) {
      if (r.status === 'error') {
        result.errors++;
        continue;
      }
      const reward = r.rewards[seat]!;
      result.meanReward += reward / played.length;
      if (r.status === 'illegal' && r.illegalBy === seat) result.illegal++;
      if (reward > 0) result.wins++;
      else if (reward < 0) result.losses++;
      else result.draws++;
    }
    bySeat[seat] = result;
    records.push(...played);
  }
  return { bySeat, records };
}

/** A sampled estimate of a model's Kuhn strategy and its exact exploitability. */
export interface KuhnEstimate {
  strategy: KuhnStrategy;
  exploitability: number;
  /** Share of samples that named no legal action (left out of the estimate). */
  illegalRate: number;
}

/**
 * The model's behaviour strategy in Kuhn poker, estimated from `samples` replies at each of the 12
 * information sets (the observation a seat sees there), then its exact exploitability
 * (`kuhnExploitability`). Replies that name no legal action are left out and reported as
 * `illegalRate`; an information set with no legal reply counts as 0.5.
 */
export async function estimateKuhn(options: { sampler: Sampler; samples: number; temperature: number; maxTokens: number; rng: Rng }): Promise<KuhnEstimate> {
  const game = kuhnPoker();
  let illegal = 0;
  let total = 0;
  const entries = await Promise.all(
    KUHN_INFOSETS.map(async (info) => {
      const other = info.card === 'K' ? 'Q' : 'K'; // the other card is never shown; any card not equal to ours
      const cards = (info.role === 'P1' ? [info.card, other] : [other, info.card]) as ['J' | 'Q' | 'K', 'J' | 'Q' | 'K'];
      const state = { cards, history: info.history };
      const response = await options.sampler.chat({ messages: [{ role: 'user', content: game.observe(state, info.role) }], n: options.samples, sampling: { temperature: options.temperature, maxTokens: options.maxTokens, seed: options.rng.nextU32() & 0x7fffffff } });
      const legal = kuhnLegal(info.history);
      let aggressive = 0;
      let counted = 0;
      for (const choice of response.choices) {
        total++;
        const move = game.parseMove(choice.message.content ?? '', state);
        if (move === undefined || !legal.includes(move as never)) {
          illegal++;
          continue;
        }
        counted++;
        if (move === legal[1]) aggressive++;
      }
      return [info.key, counted ? aggressive / counted : 0.5] as const;
    }),
  );
  const strategy = Object.fromEntries(entries);
  return { strategy, exploitability: kuhnExploitability(strategy), illegalRate: total ? illegal / total : 0 };
}
