import type { Game } from '../../core/game.js';
import type { Rng } from '../../core/rng.js';

export type KuhnCard = 'J' | 'Q' | 'K';
export type KuhnAction = 'check' | 'bet' | 'call' | 'fold';

/** A Kuhn poker hand: each role's card (P1's first) and the actions so far. */
export interface KuhnState {
  cards: readonly [KuhnCard, KuhnCard];
  history: readonly KuhnAction[];
}

const RANK: Record<KuhnCard, number> = { J: 0, Q: 1, K: 2 };
const ROLES = ['P1', 'P2'] as const;

/** The legal actions after `history`, or [] when the hand is over. */
export function kuhnLegal(history: readonly KuhnAction[]): KuhnAction[] {
  const h = history.join(',');
  if (h === '' || h === 'check') return ['check', 'bet'];
  if (h === 'bet' || h === 'check,bet') return ['fold', 'call'];
  return [];
}

/** P1's winnings in a finished hand (P2's are the negative): the ante of 1, plus 1 more when a bet was called. */
export function kuhnPayoff(state: KuhnState): number {
  const h = state.history.join(',');
  const showdown = RANK[state.cards[0]] > RANK[state.cards[1]] ? 1 : -1;
  switch (h) {
    case 'check,check':
      return showdown;
    case 'bet,fold':
      return 1;
    case 'check,bet,fold':
      return -1;
    case 'bet,call':
    case 'check,bet,call':
      return 2 * showdown;
    default:
      throw new RangeError(`kuhn: hand '${h}' is not over`);
  }
}

/**
 * Kuhn poker: three cards (J < Q < K), one dealt to each of P1 and P2, both ante 1. P1 checks or
 * bets 1; facing a bet a player folds or calls; after check–bet P1 folds or calls. Each role sees
 * only its own card. A move is one word: `check`, `bet`, `call` or `fold`. The Nash value for P1 is
 * −1/18 per hand.
 */
export function kuhnPoker(): Game<KuhnState> {
  return {
    name: 'kuhn-poker',
    roles: ROLES,
    setupState: (rng: Rng) => {
      const [a, b] = rng.shuffle<KuhnCard>(['J', 'Q', 'K']) as [KuhnCard, KuhnCard];
      return { cards: [a, b], history: [] };
    },
    toMove: (s) => (kuhnLegal(s.history).length === 0 ? null : ROLES[s.history.length % 2]!),
    observe: (s, role) => `kuhn card ${s.cards[role === 'P1' ? 0 : 1]} seen ${s.history.length ? s.history.join(' ') : 'none'} you ${role} options ${kuhnLegal(s.history).join(' ')}`,
    legalMoves: (s) => kuhnLegal(s.history),
    parseMove: (text) => {
      const m = /^\s*(check|bet|call|fold)\s*$/.exec(text);
      return m ? m[1] : undefined;
    },
    applyMove: (s, move) => {
      if (!kuhnLegal(s.history).includes(move as KuhnAction)) throw new RangeError(`kuhn: '${move}' is not legal after '${s.history.join(',')}'`);
      return { cards: s.cards, history: [...s.history, move as KuhnAction] };
    },
    outcome: (s) => {
      const p = kuhnPayoff(s);
      return { P1: p, P2: -p };
    },
    describe: (s) => `${s.cards.join('')} ${s.history.join(',')}`,
  };
}

/** Key of an information set: the acting role's card and the actions so far, e.g. `K:check,bet`. */
export function kuhnInfoset(card: KuhnCard, history: readonly KuhnAction[]): string {
  return `${card}:${history.join(',')}`;
}

/** The 12 information sets: P1's (history '' and 'check,bet') and P2's ('check' and 'bet'), for each card. */
export const KUHN_INFOSETS: readonly { role: 'P1' | 'P2'; card: KuhnCard; history: readonly KuhnAction[]; key: string }[] = (['J', 'Q', 'K'] as const).flatMap((card) =>
  ([[[], 'P1'], [['check', 'bet'], 'P1'], [['check'], 'P2'], [['bet'], 'P2']] as const).map(([history, role]) => ({ role, card, history, key: kuhnInfoset(card, history) })),
);

/**
 * A behaviour strategy for both seats: for every information set key, the probability of the
 * aggressive action (`bet` when checking is possible, else `call`). Missing keys count as 0.5.
 */
export type KuhnStrategy = Record<string, number>;

const DEALS: readonly (readonly [KuhnCard, KuhnCard])[] = [['J', 'Q'], ['J', 'K'], ['Q', 'J'], ['Q', 'K'], ['K', 'J'], ['K', 'Q']];

/** P1's expected winnings per hand when P1 follows `p1` and P2 follows `p2` (both read only their own seat's keys). */
export function kuhnValue(p1: KuhnStrategy, p2: KuhnStrategy): number {
  let total = 0;
  for (const cards of DEALS) total += walk({ cards, history: [] }, p1, p2) / DEALS.length;
  return total;
}

function walk(s: KuhnState, p1: KuhnStrategy, p2: KuhnStrategy): number {
  const legal = kuhnLegal(s.history);
  if (legal.length === 0) return kuhnPayoff(s);
  const seat = s.history.length % 2;
  const key = kuhnInfoset(s.cards[seat as 0 | 1], s.history);
  const aggressive = (seat === 0 ? p1 : p2)[key] ?? 0.5;
  const [passive, active] = legal as [KuhnAction, KuhnAction];
  return (1 - aggressive) * walk({ ...s, history: [...s.history, passive] }, p1, p2) + aggressive * walk({ ...s, history: [...s.history, active] }, p1, p2);
}

/** Every pure strategy of one seat (each of its 6 information sets at probability 0 or 1): 64. */
function pureStrategies(role: 'P1' | 'P2'): KuhnStrategy[] {
  const keys = KUHN_INFOSETS.filter((i) => i.role === role).map((i) => i.key);
  return Array.from({ length: 1 << keys.length }, (_, bits) => Object.fromEntries(keys.map((k, j) => [k, (bits >> j) & 1])));
}

/**
 * Exact exploitability of `strategy` (one strategy for both seats): the mean of what a best
 * response gains against it in each seat, (max_σ1 u1(σ1, s) + max_σ2 u2(s, σ2)) / 2, in chips per
 * hand. 0 exactly at a Nash equilibrium; 0.4583 (= 11/24) for the uniform random policy. The best
 * responses are found by enumerating all 64 pure strategies of each seat (Kuhn is that small).
 */
export function kuhnExploitability(strategy: KuhnStrategy): number {
  const br1 = Math.max(...pureStrategies('P1').map((s1) => kuhnValue(s1, strategy)));
  const br2 = Math.max(...pureStrategies('P2').map((s2) => -kuhnValue(strategy, s2)));
  return (br1 + br2) / 2;
}

/** A Nash equilibrium (Kuhn's family at α = 1/6 for P1; P2's unique equilibrium strategy). */
export const KUHN_NASH: KuhnStrategy = {
  'J:': 1 / 6, 'Q:': 0, 'K:': 1 / 2,
  'J:check,bet': 0, 'Q:check,bet': 1 / 6 + 1 / 3, 'K:check,bet': 1,
  'J:check': 1 / 3, 'Q:check': 0, 'K:check': 1,
  'J:bet': 0, 'Q:bet': 1 / 3, 'K:bet': 1,
};

/** A move drawn from a behaviour strategy at `state`. */
export function kuhnStrategyMove(strategy: KuhnStrategy, state: KuhnState, rng: Rng): KuhnAction {
  const legal = kuhnLegal(state.history) as [KuhnAction, KuhnAction];
  const seat = state.history.length % 2;
  const p = strategy[kuhnInfoset(state.cards[seat as 0 | 1], state.history)] ?? 0.5;
  return rng.next() < p ? legal[1] : legal[0];
}
