import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import type { ChatRequest } from '../core/sampler.js';
import { playMatches } from '../envs/games/play.js';
import { modelPlayer, randomPlayer } from '../envs/games/players.js';
import { ticTacToe } from '../envs/games/tic-tac-toe.js';
import { ScriptedSampler } from '../testing/scripted-sampler.js';
import { FakeTrainingBackend } from './fake-training-backend.js';
import { LeagueState } from './league.js';
import { emptyBaselines } from './role-advantages.js';
import { SelfPlayConfig } from './self-play-config.js';
import { buildSelfPlayBatch, trainSelfPlay } from './self-play.js';
import { formatRecords } from './self-play-job.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'keiko-selfplay-'));
  dirs.push(d);
  return d;
};

/** A tic-tac-toe "model" that always plays the first free cell, with fake token ids. */
function firstFreeCell(): ScriptedSampler {
  return new ScriptedSampler({
    fakeTokens: true,
    respond: (req: ChatRequest) => {
      return /free (\d)/.exec(req.messages.at(-1)!.content ?? '')![1]!;
    },
  });
}

describe('buildSelfPlayBatch', () => {
  it('one sequence per policy turn, with its role’s RAE advantage, exact tokens, prompt masked out', async () => {
    const game = ticTacToe();
    const me = modelPlayer({ id: 'policy', sampler: firstFreeCell(), sampling: {}, trains: true });
    const records = await playMatches({ game, matches: [{ players: { X: me, O: me } }, { players: { X: me, O: randomPlayer() } }], rng: new Rng(0) });
    const baselines = emptyBaselines();
    const batch = buildSelfPlayBatch({ game, records, baselines, decay: 0.5 });
    // Game 1: X and O both trained (X wins); game 2: only X.
    const xTurns = records[0]!.turns.filter((t) => t.role === 'X').length;
    const oTurns = records[0]!.turns.filter((t) => t.role === 'O').length;
    const xTurns2 = records[1]!.turns.length;
    expect(batch.sequences).toHaveLength(xTurns + oTurns + xTurns2);
    expect(batch.rewards).toEqual([1, -1, records[1]!.rewards['X']]);
    expect(batch.advantages.slice(0, 2)).toEqual([0.5, -0.5]); // X: b = 0.5; O: b = −0.5
    const first = batch.sequences[0]!;
    const tokens = records[0]!.turns[0]!.turn.tokens!;
    expect(first.inputIds).toEqual([...tokens.promptIds, ...tokens.completionIds]);
    expect(first.lossMask).toEqual([...tokens.promptIds.map(() => 0), ...tokens.completionIds.map(() => 1)]);
    expect(first.advantages).toBe(0.5);
    expect(batch.sequences.slice(xTurns, xTurns + oTurns).every((s) => s.advantages === -0.5)).toBe(true);
    expect(baselines.counts).toEqual({ 'tic-tac-toe/X': 2, 'tic-tac-toe/O': 1 });
  });
});

describe('trainSelfPlay', () => {
  it('league mode: trains every step, freezes snapshots the opponent server loads, rates them, evaluates against minimax, writes the run folder', async () => {
    const runDir = tmp();
    const training = new FakeTrainingBackend();
    training.fuseOptim = true;
    const loads: string[] = [];
    const config = SelfPlayConfig.parse({ game: 'tic-tac-toe', steps: 4, gamesPerStep: 8, snapshotEvery: 2, evalEvery: 2, evalGamesPerSide: 3, testGamesPerSide: 5, opponentSampling: 'latest', seed: 3 });
    const result = await trainSelfPlay({
      config,
      policy: { sampler: firstFreeCell(), training },
      opponents: { sampler: firstFreeCell(), load: async (r) => void loads.push(r.path) },
      startModel: '/models/start',
      runDir,
    });
    expect(result.steps).toBe(4);
    expect(training.calls.filter((c) => c.kind === 'forward')).toHaveLength(4);
    expect(training.calls.filter((c) => c.kind === 'save').map((c) => c.path)).toEqual([join(runDir, 'league', 'step-000002'), join(runDir, 'league', 'step-000004')]);
    // 'latest': steps 1–2 play the start model (already loaded), steps 3–4 the step-2 snapshot (loaded once).
    expect(loads).toEqual([join(runDir, 'league', 'step-000002')]);
    const league = LeagueState.parse(JSON.parse(readFileSync(join(runDir, 'league.json'), 'utf8')));
    expect(league.members.map((m) => m.id)).toEqual(['step-0', 'step-2', 'step-4']);
    expect(league.history.map((h) => h.step)).toEqual([1, 2, 3, 4]);
    // Half the games were self-play (no rating), half against the snapshot: 4 per step.
    expect(league.current.games).toBe(16);
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(metrics.map((m) => m['step'])).toEqual([1, 2, 3, 4]);
    expect(metrics[1]).toHaveProperty('optimalLosses_X');
    expect(metrics[0]).not.toHaveProperty('optimalLosses_X');
    expect(metrics.every((m) => m['selfPlayGames'] === 4 && m['illegalRate'] === 0)).toBe(true);
    // First-free-cell loses to minimax from both seats.
    expect(result.evals.map((e) => [e.step, e.split])).toEqual([[0, 'validation'], [2, 'validation'], [4, 'validation'], [4, 'test']]);
    expect(result.evals.at(-1)!.vsOptimal['X']!.games).toBe(5);
    expect(result.evals[0]!.vsOptimal['O']!.losses).toBe(3);
    expect(existsSync(join(runDir, 'games', 'eval-test-4.jsonl'))).toBe(true);
    expect(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'))).toMatchObject({ status: 'completed' });
  });

  it('collapse: move-for-move repeated games fire the signal, and the configured response (a hotter temperature) runs for its steps', async () => {
    const config = SelfPlayConfig.parse({ game: 'tic-tac-toe', steps: 4, gamesPerStep: 8, evalEvery: 0, evalGamesPerSide: 1, testGamesPerSide: 0, collapseRepeatCeiling: 0.5, collapseResponse: 'raise-temperature', collapseResponseSteps: 2, collapseWindow: 0 });
    const sampler = firstFreeCell();
    const runDir = tmp();
    await trainSelfPlay({ config, policy: { sampler, training: new FakeTrainingBackend() }, opponents: { sampler: firstFreeCell(), load: async () => undefined }, startModel: '/m', runDir });
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    // Policy and snapshot both play the first free cell: all 8 games are the same moves, so 7 of 8 repeat.
    expect(metrics.map((m) => m['repeatRate'])).toEqual([0.875, 0.875, 0.875, 0.875]);
    expect(metrics.map((m) => m['collapseRepetitive'])).toEqual([1, 1, 1, 1]);
    // Detected at step 1 → active for steps 2–3 (not re-armed while active); detected again at step 4 → would run from step 5.
    expect(metrics.map((m) => m['collapseResponse'])).toEqual([0, 1, 1, 0]);
    expect(metrics.map((m) => m['temperature'])).toEqual([1, 1.5, 1.5, 1]);
    expect(sampler.chatRequests.some((r) => r.sampling?.temperature === 1.5)).toBe(true);
  });

  it('scripted mode trains against the fixed opponent only (no snapshots, no opponent server); league mode without a server is refused', async () => {
    const runDir = tmp();
    const training = new FakeTrainingBackend();
    const config = SelfPlayConfig.parse({ game: 'nim', opponents: 'scripted', scriptedOpponent: 'optimal', steps: 2, gamesPerStep: 4, evalEvery: 0, evalGamesPerSide: 2 });
    const sampler = new ScriptedSampler({ fakeTokens: true, respond: (req) => `${/piles (\d)/.exec(req.messages.at(-1)!.content ?? '')![1] === '0' ? 2 : 1} 1` });
    const result = await trainSelfPlay({ config, policy: { sampler, training }, startModel: '/m', runDir });
    expect(training.calls.filter((c) => c.kind === 'save')).toHaveLength(0);
    expect(result.league.members.map((m) => m.id)).toEqual(['scripted:xor']);
    expect(result.evals.map((e) => e.step)).toEqual([0, 2, 2]);
    await expect(trainSelfPlay({ config: SelfPlayConfig.parse({ steps: 1 }), policy: { sampler, training }, startModel: '/m', runDir: tmp() })).rejects.toThrow(/needs an opponent server/);
  });
});

describe('formatRecords', () => {
  it('pairs each observation with a legal move of that position (format only) and is seeded', () => {
    const game = ticTacToe();
    const records = formatRecords({ game, count: 50, rng: new Rng(1) });
    expect(records).toHaveLength(50);
    for (const r of records) {
      const free = /free ([\d ]+) you/.exec(r.messages[0]!.content!)![1]!.split(' ');
      expect(free).toContain(r.messages[1]!.content);
    }
    expect(formatRecords({ game, count: 50, rng: new Rng(1) })).toEqual(records);
  });
});
