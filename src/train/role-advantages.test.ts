import { describe, expect, it } from 'vitest';
import { computeAdvantages } from './advantages.js';
import { emptyBaselines, roleAdvantages } from './role-advantages.js';

describe('role-conditioned advantages (RAE)', () => {
  it('fixed inputs: per-role EMA baselines, updated before the advantage', () => {
    const baselines = emptyBaselines();
    const adv = roleAdvantages({
      baselines,
      decay: 0.5,
      returns: [
        { game: 'ttt', role: 'X', reward: 1 },
        { game: 'ttt', role: 'O', reward: -1 },
        { game: 'ttt', role: 'X', reward: 1 },
        { game: 'ttt', role: 'X', reward: -1 },
        { game: 'kuhn', role: 'X', reward: 2 },
      ],
    });
    // X: b = 0.5 → A 0.5; b = 0.75 → A 0.25; b = −0.125 → A −0.875. O: b = −0.5 → A −0.5. kuhn/X is its own baseline: b = 1 → A 1.
    expect(adv).toEqual([0.5, -0.5, 0.25, -0.875, 1]);
    expect(baselines.values).toEqual({ 'ttt/X': -0.125, 'ttt/O': -0.5, 'kuhn/X': 1 });
    expect(baselines.counts).toEqual({ 'ttt/X': 3, 'ttt/O': 1, 'kuhn/X': 1 });
  });

  it('a seat with a built-in edge is not rewarded for sitting in it once its baseline has learned the edge (a shared baseline keeps rewarding it)', () => {
    // First mover wins 3 of 4 games whatever it does; the zero-sum rewards cancel in a shared baseline.
    const games = Array.from({ length: 400 }, (_, i) => (i % 4 === 3 ? -1 : 1));
    const baselines = emptyBaselines();
    let last: number[] = [];
    for (const r of games) last = roleAdvantages({ baselines, decay: 0.95, returns: [{ game: 'g', role: 'first', reward: r }, { game: 'g', role: 'second', reward: -r }] });
    expect(baselines.values['g/first']).toBeCloseTo(0.5, 1);
    expect(baselines.values['g/second']).toBeCloseTo(-0.5, 1);
    // A first-mover win is worth about +0.5 under RAE, about +1 under the shared (GRPO group) baseline.
    expect(last[0]).toBeLessThan(0);
    const rae = roleAdvantages({ baselines: structuredClone(baselines), returns: [{ game: 'g', role: 'first', reward: 1 }] })[0]!;
    const shared = computeAdvantages({ rewards: [[1, -1]], scale: 'none' })[0]![0]!;
    expect(rae).toBeGreaterThan(0.4);
    expect(rae).toBeLessThan(0.6);
    expect(shared).toBe(1);
  });

  it('rejects a decay outside [0, 1) and non-finite rewards', () => {
    expect(() => roleAdvantages({ baselines: emptyBaselines(), decay: 1, returns: [] })).toThrow(/decay must be in \[0, 1\)/);
    expect(() => roleAdvantages({ baselines: emptyBaselines(), returns: [{ game: 'g', role: 'r', reward: NaN }] })).toThrow(/not finite/);
  });
});
