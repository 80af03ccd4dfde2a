import { describe, expect, it } from 'vitest';
import { kuhnExploitability, KUHN_INFOSETS } from '../../src/envs/games/index.js';
import { loadSelfPlayConfig } from '../../src/train/index.js';
import { KUHN_RANDOM_EXPLOITABILITY, targetMet } from './run.js';

const seat = (wins: number, draws: number, losses: number) => ({ games: wins + draws + losses, wins, draws, losses, illegal: 0, errors: 0, meanReward: 0 });

describe('self-play flagship', () => {
  it('both game configs load and keep the test games apart from the validation games', () => {
    for (const game of ['tic-tac-toe', 'kuhn-poker']) {
      const config = loadSelfPlayConfig({ file: `examples/self-play/${game}.toml`, overrides: ['--steps=1'] });
      expect(config.game).toBe(game);
      expect(config.steps).toBe(1);
      expect(config.testGamesPerSide).toBe(100);
    }
  });

  it('targets: tic-tac-toe needs zero losses in both seats; Kuhn needs exploitability ≤ 20% of random play’s', () => {
    expect(KUHN_RANDOM_EXPLOITABILITY).toBeCloseTo(kuhnExploitability(Object.fromEntries(KUHN_INFOSETS.map((i) => [i.key, 0.5]))), 12);
    expect(targetMet('tic-tac-toe', { step: 1, split: 'test', vsOptimal: { X: seat(3, 97, 0), O: seat(0, 100, 0) } }).met).toBe(true);
    expect(targetMet('tic-tac-toe', { step: 1, split: 'test', vsOptimal: { X: seat(3, 96, 1), O: seat(0, 100, 0) } }).met).toBe(false);
    const kuhn = (exploitability: number) => ({ step: 1, split: 'test' as const, vsOptimal: {}, kuhn: { strategy: {}, exploitability, illegalRate: 0 } });
    expect(targetMet('kuhn-poker', kuhn(0.09)).met).toBe(true);
    expect(targetMet('kuhn-poker', kuhn(0.1)).met).toBe(false);
  });
});
