import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { collapseSignals, eloExpected, League, LeagueState, repeatRate, type CollapseConfig } from './league.js';

describe('League', () => {
  it('Elo: equal ratings expect 0.5; a win moves both ratings by K/2 in opposite directions; anchored members stay put', () => {
    expect(eloExpected(1000, 1000)).toBe(0.5);
    expect(eloExpected(1400, 1000)).toBeCloseTo(10 / 11, 12);
    const league = new League({ k: 32 });
    league.addSnapshot({ id: 'step-0', step: 0, path: '/ck/0' });
    league.addScripted({ id: 'random', rating: 1000 });
    league.recordGame('step-0', 1);
    expect(league.state.current.rating).toBe(1016);
    expect(league.member('step-0').rating).toBe(984);
    league.recordGame('random', 0.5); // expected 0.5229…: a draw costs the policy a little, the anchor does not move
    expect(league.state.current.rating).toBeCloseTo(1016 + 32 * (0.5 - eloExpected(1016, 1000)), 12);
    expect(league.member('random').rating).toBe(1000);
    expect(league.member('step-0')).toMatchObject({ wins: 1, draws: 0, losses: 0 });
    expect(league.state.current.games).toBe(2);
  });

  it('a new snapshot enters at the current rating; ids are unique; unknown ids name the members', () => {
    const league = new League();
    league.addSnapshot({ id: 'a', step: 0, path: '/a' });
    for (let i = 0; i < 5; i++) league.recordGame('a', 1);
    const b = league.addSnapshot({ id: 'b', step: 10, path: '/b' });
    expect(b.rating).toBe(league.state.current.rating);
    expect(() => league.addSnapshot({ id: 'b', step: 20, path: '/b2' })).toThrow(/already has a member 'b'/);
    expect(() => league.member('zz')).toThrow(/no league member 'zz'; members: a, b/);
  });

  it('opponent sampling: uniform covers every snapshot, prioritised favours the ones that still beat the policy, latest is the newest, olderHalf the older ones', () => {
    const league = new League();
    league.addSnapshot({ id: 'easy', step: 0, path: '/e' });
    league.addSnapshot({ id: 'hard', step: 10, path: '/h' });
    league.addScripted({ id: 'random', rating: 1000 });
    for (let i = 0; i < 20; i++) {
      league.recordGame('easy', 1);
      league.recordGame('hard', 0);
    }
    const rng = new Rng(0);
    const count = (mode: 'uniform' | 'prioritised', olderHalf = false) => {
      const n: Record<string, number> = {};
      for (let i = 0; i < 2000; i++) {
        const id = league.sampleOpponent({ rng, mode, olderHalf }).id;
        n[id] = (n[id] ?? 0) + 1;
      }
      return n;
    };
    const uniform = count('uniform');
    expect(uniform['random']).toBeUndefined();
    expect(uniform['easy']).toBeGreaterThan(850);
    expect(uniform['hard']).toBeGreaterThan(850);
    const prioritised = count('prioritised');
    expect(prioritised['hard']!).toBeGreaterThan(20 * (prioritised['easy'] ?? 0));
    expect(league.sampleOpponent({ rng, mode: 'latest' }).id).toBe('hard');
    expect(count('prioritised', true)).toEqual({ easy: 2000 });
    expect(() => new League().sampleOpponent({ rng, mode: 'uniform' })).toThrow(/no snapshot/);
  });

  it('prune keeps the first snapshot and the newest ones; the state round-trips through its schema', () => {
    const league = new League();
    for (let s = 0; s <= 50; s += 10) league.addSnapshot({ id: `s${s}`, step: s, path: `/s${s}` });
    league.markStep(1);
    expect(league.prune(3).map((m) => m.id)).toEqual(['s10', 's20', 's30']);
    expect(league.members.map((m) => m.id)).toEqual(['s0', 's40', 's50']);
    const again = new League({ state: LeagueState.parse(JSON.parse(JSON.stringify(league.state))) });
    expect(again.state).toEqual(league.state);
  });
});

describe('collapse detection', () => {
  const config: CollapseConfig = { entropyFloor: 0.05, repeatCeiling: 0.5, stagnationWindow: 3, stagnationDelta: 5, response: 'older-opponents', responseSteps: 5 };
  it('repeatRate counts move-for-move copies', () => {
    expect(repeatRate([['1', '2'], ['1', '2'], ['2', '1'], ['1', '2']])).toBe(0.5);
    expect(repeatRate([])).toBe(0);
  });
  it('each signal fires on its own condition', () => {
    const rising = [0, 1, 2, 3].map((i) => ({ step: i, rating: 1000 + 10 * i }));
    const flat = [0, 1, 2, 3].map((i) => ({ step: i, rating: 1000 + i }));
    expect(collapseSignals({ entropy: 1, repeatRate: 0.1, history: rising, config })).toEqual({ lowEntropy: false, repetitive: false, stagnant: false, collapsed: false });
    expect(collapseSignals({ entropy: 0.01, repeatRate: 0.1, history: rising, config })).toMatchObject({ lowEntropy: true, collapsed: true });
    expect(collapseSignals({ entropy: 1, repeatRate: 0.9, history: rising, config })).toMatchObject({ repetitive: true, collapsed: true });
    expect(collapseSignals({ entropy: 1, repeatRate: 0, history: flat, config })).toMatchObject({ stagnant: true, collapsed: true });
    expect(collapseSignals({ entropy: null, repeatRate: 0, history: flat.slice(0, 2), config }).collapsed).toBe(false);
  });
});
