import { z } from 'zod';
import type { Rng } from '../core/rng.js';

/** One opponent in the league: a frozen snapshot of the policy (a checkpoint) or a scripted player. */
export const LeagueMember = z.object({
  id: z.string(),
  kind: z.enum(['snapshot', 'scripted']),
  /** Training step the snapshot was frozen at (scripted players: 0). */
  step: z.number().int().nonnegative(),
  /** The checkpoint directory the sampler serves for this snapshot (scripted players: null). */
  path: z.string().nullable(),
  rating: z.number(),
  /** An anchored member's rating never moves (a scripted reference player). */
  anchored: z.boolean().default(false),
  /** The current policy's results against this member. */
  wins: z.number().int().nonnegative().default(0),
  draws: z.number().int().nonnegative().default(0),
  losses: z.number().int().nonnegative().default(0),
});
export type LeagueMember = z.infer<typeof LeagueMember>;

/** The league as persisted (`league.json` in the run folder). */
export const LeagueState = z.object({
  schemaVersion: z.literal(1).default(1),
  /** The current (training) policy's rating and games. */
  current: z.object({ rating: z.number(), games: z.number().int().nonnegative() }),
  members: z.array(LeagueMember),
  /** The current policy's rating after each step: the rating curve. */
  history: z.array(z.object({ step: z.number().int(), rating: z.number() })),
});
export type LeagueState = z.infer<typeof LeagueState>;

/** How opponents are drawn: uniformly, prioritised by how often they still beat the policy (PFSP), or the newest. */
export type OpponentSampling = 'uniform' | 'prioritised' | 'latest';

/** 1 for a win of the current policy, 0.5 for a draw, 0 for a loss. */
export type Score = 0 | 0.5 | 1;

/**
 * A league of frozen opponents with Elo ratings. The current policy plays members; each game moves
 * both ratings by Elo's rule, R ← R + K·(S − E) with E = 1 / (1 + 10^((R_opp − R)/400)) (anchored
 * members stay put). A new snapshot enters at the current policy's rating. Opponent sampling:
 * `uniform` over the members; `prioritised` (AlphaStar's prioritised fictitious self-play, "hard"
 * weighting) with weight (1 − w)² where w is the policy's smoothed win rate against the member,
 * (wins + draws/2 + 1) / (games + 2); `latest`, the newest snapshot.
 */
export class League {
  readonly state: LeagueState;
  private readonly k: number;

  constructor(options: { initialRating?: number; k?: number; state?: LeagueState } = {}) {
    this.k = options.k ?? 24;
    if (!(this.k > 0)) throw new RangeError(`Elo K must be positive, not ${this.k}`);
    this.state = options.state ?? { schemaVersion: 1, current: { rating: options.initialRating ?? 1000, games: 0 }, members: [], history: [] };
  }

  get members(): readonly LeagueMember[] {
    return this.state.members;
  }

  /** Freezes the current policy as a member (at its current rating). Ids must be unique. */
  addSnapshot(options: { id: string; step: number; path: string }): LeagueMember {
    return this.add({ id: options.id, kind: 'snapshot', step: options.step, path: options.path, rating: this.state.current.rating, anchored: false, wins: 0, draws: 0, losses: 0 });
  }

  /** A scripted reference player, its rating fixed at `rating` (e.g. the random player at 1000). */
  addScripted(options: { id: string; rating: number }): LeagueMember {
    return this.add({ id: options.id, kind: 'scripted', step: 0, path: null, rating: options.rating, anchored: true, wins: 0, draws: 0, losses: 0 });
  }

  private add(member: LeagueMember): LeagueMember {
    if (this.state.members.some((m) => m.id === member.id)) throw new RangeError(`league already has a member '${member.id}'`);
    this.state.members.push(member);
    return member;
  }

  member(id: string): LeagueMember {
    const m = this.state.members.find((x) => x.id === id);
    if (!m) throw new RangeError(`no league member '${id}'; members: ${this.state.members.map((x) => x.id).join(', ') || '(none)'}`);
    return m;
  }

  /** Records one game of the current policy against member `id` and updates both ratings. */
  recordGame(id: string, score: Score): void {
    const m = this.member(id);
    const cur = this.state.current;
    const expected = eloExpected(cur.rating, m.rating);
    const delta = this.k * (score - expected);
    cur.rating += delta;
    cur.games++;
    if (!m.anchored) m.rating -= delta;
    if (score === 1) m.wins++;
    else if (score === 0) m.losses++;
    else m.draws++;
  }

  /** Appends the current rating to the rating curve. */
  markStep(step: number): void {
    this.state.history.push({ step, rating: this.state.current.rating });
  }

  /** The policy's smoothed score against a member: (wins + draws/2 + 1) / (games + 2). */
  winRate(id: string): number {
    const m = this.member(id);
    return (m.wins + m.draws / 2 + 1) / (m.wins + m.draws + m.losses + 2);
  }

  /**
   * Draws an opponent among the snapshots (scripted members are references, not sparring partners).
   * `olderHalf` restricts the draw to the older half of the snapshots (the collapse response).
   */
  sampleOpponent(options: { rng: Rng; mode: OpponentSampling; olderHalf?: boolean }): LeagueMember {
    let pool = this.state.members.filter((m) => m.kind === 'snapshot');
    if (pool.length === 0) throw new RangeError('the league has no snapshot to play against yet');
    pool = pool.slice().sort((a, b) => a.step - b.step);
    if (options.olderHalf && pool.length > 1) pool = pool.slice(0, Math.ceil(pool.length / 2));
    if (options.mode === 'latest') return pool.at(-1)!;
    if (options.mode === 'uniform') return options.rng.choice(pool);
    const weights = pool.map((m) => (1 - this.winRate(m.id)) ** 2);
    const total = weights.reduce((a, b) => a + b, 0);
    let x = options.rng.next() * total;
    for (const [i, w] of weights.entries()) {
      x -= w;
      if (x < 0) return pool[i]!;
    }
    return pool.at(-1)!;
  }

  /** Drops the oldest snapshots beyond `max` (the first snapshot, the starting policy, is kept). */
  prune(max: number): LeagueMember[] {
    const snaps = this.state.members.filter((m) => m.kind === 'snapshot').sort((a, b) => a.step - b.step);
    const drop = snaps.length > max ? snaps.slice(1, 1 + snaps.length - max) : [];
    this.state.members = this.state.members.filter((m) => !drop.includes(m));
    return drop;
  }
}

/** Elo's expected score of a player rated `a` against one rated `b`. */
export function eloExpected(a: number, b: number): number {
  return 1 / (1 + 10 ** ((b - a) / 400));
}

/** Settings of collapse detection and of the response to it. */
export interface CollapseConfig {
  /** Mean policy entropy (nats per sampled token) below which the policy counts as collapsed. */
  entropyFloor: number;
  /** Share of a step's games that repeat another game move for move, above which play counts as collapsed. */
  repeatCeiling: number;
  /** Steps over which the rating must rise by at least `stagnationDelta`, else it counts as stagnant. */
  stagnationWindow: number;
  stagnationDelta: number;
  /** What to do on collapse: nothing, draw opponents from the older half of the league, or sample hotter. */
  response: 'none' | 'older-opponents' | 'raise-temperature';
  /** Steps the response lasts once triggered. */
  responseSteps: number;
}

/** The three collapse signals of one step and whether any fired. */
export interface CollapseSignals {
  lowEntropy: boolean;
  repetitive: boolean;
  stagnant: boolean;
  collapsed: boolean;
}

/**
 * Collapse signals: low entropy (the policy stopped exploring), repetitive play (many games are
 * move-for-move copies: a degenerate equilibrium), a stagnant rating (no progress against the
 * league over the window). Each is recorded as a metric; any one triggers the configured response.
 */
export function collapseSignals(options: { entropy: number | null; repeatRate: number; history: LeagueState['history']; config: CollapseConfig }): CollapseSignals {
  const { config, history } = options;
  const lowEntropy = options.entropy !== null && options.entropy < config.entropyFloor;
  const repetitive = options.repeatRate > config.repeatCeiling;
  let stagnant = false;
  if (config.stagnationWindow > 0 && history.length > config.stagnationWindow) {
    const now = history.at(-1)!.rating;
    const then = history.at(-1 - config.stagnationWindow)!.rating;
    stagnant = now - then < config.stagnationDelta;
  }
  return { lowEntropy, repetitive, stagnant, collapsed: lowEntropy || repetitive || stagnant };
}

/** Share of games that repeat an earlier game of the list move for move (0 when all differ). */
export function repeatRate(games: readonly (readonly string[])[]): number {
  if (games.length === 0) return 0;
  const seen = new Set<string>();
  let repeats = 0;
  for (const g of games) {
    const key = JSON.stringify(g);
    if (seen.has(key)) repeats++;
    else seen.add(key);
  }
  return repeats / games.length;
}
