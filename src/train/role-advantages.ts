/**
 * Role-conditioned advantage estimation (RAE, from SPIRAL: Liu et al. 2025, "SPIRAL: Self-Play on
 * Zero-Sum Games Incentivizes Reasoning via Multi-Agent Multi-Turn Reinforcement Learning").
 *
 * In self-play one policy plays every role, and in a zero-sum game the roles' rewards cancel: a
 * batch-mean (or a GRPO group-mean over both seats) baseline is ~0 whatever the roles' real
 * expected returns are, so the seat with the built-in edge (X in tic-tac-toe, P2 in Kuhn poker) is
 * rewarded for sitting in it. RAE keeps one baseline per (game, role), an exponential moving
 * average of that role's returns, and the advantage of a trajectory is its return minus the
 * baseline of its own role:
 *
 *   b[g,r] ← α · b[g,r] + (1 − α) · R        (for each game played, in order)
 *   A     = R − b[g,r]                         (with the updated baseline, as SPIRAL does)
 *
 * α = 0.95 in SPIRAL. Baselines start at 0. The state is plain data so a trainer can checkpoint it.
 */
export interface RoleBaselines {
  /** Baselines by `<game>/<role>`. */
  values: Record<string, number>;
  /** Games seen per `<game>/<role>`. */
  counts: Record<string, number>;
}

/** Baselines before any game. */
export function emptyBaselines(): RoleBaselines {
  return { values: {}, counts: {} };
}

/** One trajectory's return, labelled with the game and role it was played in. */
export interface RoleReturn {
  game: string;
  role: string;
  reward: number;
}

/**
 * RAE advantages for `returns`, in order, updating `baselines` in place (see the formula above).
 * With `decay` α in [0, 1): α = 0 gives A = 0 for every trajectory (the baseline is the return).
 *
 * @returns one advantage per entry of `returns`
 */
export function roleAdvantages(options: { returns: readonly RoleReturn[]; baselines: RoleBaselines; decay?: number }): number[] {
  const { returns, baselines } = options;
  const decay = options.decay ?? 0.95;
  if (!(decay >= 0 && decay < 1)) throw new RangeError(`RAE decay must be in [0, 1), not ${decay}`);
  return returns.map(({ game, role, reward }) => {
    if (!Number.isFinite(reward)) throw new RangeError(`RAE: reward of ${game}/${role} is not finite (${reward})`);
    const key = `${game}/${role}`;
    const b = decay * (baselines.values[key] ?? 0) + (1 - decay) * reward;
    baselines.values[key] = b;
    baselines.counts[key] = (baselines.counts[key] ?? 0) + 1;
    return reward - b;
  });
}
