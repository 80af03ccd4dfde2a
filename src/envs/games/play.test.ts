import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.js';
import type { ChatRequest } from '../../core/sampler.js';
import { ScriptedSampler } from '../../testing/scripted-sampler.js';
import { builtInGame } from './builtin.js';
import { kuhnPoker } from './kuhn-poker.js';
import { playMatches } from './play.js';
import { modelPlayer, randomPlayer, scriptedPlayer } from './players.js';
import { ticTacToe } from './tic-tac-toe.js';

const lastUser = (r: ChatRequest) => r.messages.at(-1)?.content ?? '';

describe('playMatches', () => {
  it('self-play: both roles by the training policy; every turn keeps the exact sampled tokens, in order, with its role', async () => {
    // The model plays the first free cell: X takes 1, 3, 5, 7 and wins on the 3-5-7 diagonal.
    const sampler = new ScriptedSampler({
      respond: (req) => {
        return /free (\d)/.exec(lastUser(req))![1]!;
      },
      fakeTokens: true,
      policyVersion: 7,
    });
    const policy = modelPlayer({ id: 'policy', sampler, sampling: { temperature: 1, maxTokens: 4 }, trains: true });
    const [record] = await playMatches({ game: ticTacToe(), matches: [{ players: { X: policy, O: policy } }], rng: new Rng(0) });
    expect(record!.status).toBe('finished');
    // X takes 1, 3, 5, 7: the diagonal 3-5-7 wins on X's 4th move.
    expect(record!.moves.map((m) => m.move)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect(record!.rewards).toEqual({ X: 1, O: -1 });
    expect(record!.turns.map((t) => t.role)).toEqual(['X', 'O', 'X', 'O', 'X', 'O', 'X']);
    for (const [i, t] of record!.turns.entries()) {
      expect(t.turn.completion.content).toBe(record!.moves[i]!.text);
      expect(t.turn.tokens!.completionIds.length).toBeGreaterThan(0);
      expect(t.turn.tokens!.completionLogprobs.length).toBe(t.turn.tokens!.completionIds.length);
      expect(t.turn.policyVersion).toBe(7);
    }
    // Every request asked for token ids and carried its own seed.
    expect(sampler.chatRequests.every((r) => r.sampling?.returnTokens === true && typeof r.sampling.seed === 'number')).toBe(true);
  });

  it('hidden information: each Kuhn seat is shown its own card and never the other', async () => {
    const seen: string[] = [];
    const sampler = new ScriptedSampler({ respond: (req) => (seen.push(lastUser(req)), /seen none|seen check$/.test(lastUser(req).replace(/ you .*/, '')) ? 'check' : 'call') });
    const policy = modelPlayer({ id: 'policy', sampler, sampling: {}, trains: true });
    const records = await playMatches({ game: kuhnPoker(), matches: Array.from({ length: 12 }, () => ({ players: { P1: policy, P2: policy } })), rng: new Rng(4) });
    expect(records.every((r) => r.status === 'finished')).toBe(true);
    for (const r of records) {
      const [c1, c2] = r.final.split(' ')[0]!.split('') as [string, string];
      expect(r.moves.length).toBeGreaterThan(1);
      expect(r.rewards['P1']! + r.rewards['P2']!).toBe(0);
      expect(c1).not.toBe(c2);
    }
    for (const obs of seen) {
      const cards = obs.match(/\b[JQK]\b/g) ?? [];
      expect(cards).toHaveLength(1); // exactly one card visible: the seat's own
    }
  });

  it('an illegal or unparseable move ends the game with the penalty for the offender only', async () => {
    const sampler = new ScriptedSampler({ script: ['5', 'five'] });
    const policy = modelPlayer({ id: 'policy', sampler, sampling: {}, trains: true });
    const first = scriptedPlayer({ name: 'corner', move: () => '1' });
    const [taken, garbage] = await playMatches({
      game: ticTacToe(),
      matches: [{ players: { X: first, O: modelPlayer({ id: 'policy', sampler: new ScriptedSampler({ script: ['1'] }), sampling: {}, trains: true }) } }, { players: { X: policy, O: policy } }],
      rng: new Rng(0),
      illegalPenalty: -2,
    });
    expect(taken!.status).toBe('illegal');
    expect(taken!.illegalBy).toBe('O');
    expect(taken!.rewards).toEqual({ X: 0, O: -2 });
    expect(taken!.moves.at(-1)).toMatchObject({ text: '1', move: null, player: 'policy' });
    expect(garbage!.status).toBe('illegal');
    expect(garbage!.illegalBy).toBe('O');
    expect(garbage!.moves.map((m) => m.text)).toEqual(['5', 'five']);
  });

  it('a sampler failure is an error game (no penalty, reason kept), not an illegal move', async () => {
    const sampler = new ScriptedSampler({ script: [new Error('connection refused')] });
    const [r] = await playMatches({ game: ticTacToe(), matches: [{ players: { X: modelPlayer({ id: 'm', sampler, sampling: {} }), O: randomPlayer() } }], rng: new Rng(0) });
    expect(r!.status).toBe('error');
    expect(r!.error).toMatch(/connection refused/);
    expect(r!.rewards).toEqual({ X: 0, O: 0 });
  });

  it('refuses a match with a role nobody plays, and the same seed replays the same games', async () => {
    await expect(playMatches({ game: ticTacToe(), matches: [{ players: { X: randomPlayer() } }], rng: new Rng(0) })).rejects.toThrow(/no player for role\(s\) O/);
    const { game, optimal } = builtInGame('kuhn-poker');
    const play = () => playMatches({ game, matches: Array.from({ length: 20 }, () => ({ players: { P1: optimal, P2: randomPlayer() } })), rng: new Rng(9) });
    expect((await play()).map((r) => r.final)).toEqual((await play()).map((r) => r.final));
  });
});
