import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Game } from '../core/game.js';
import { writeJsonAtomic, toJsonl, writeFileAtomic } from '../core/json-files.js';
import { Rng } from '../core/rng.js';
import type { StepMetrics } from '../core/run-manifest.js';
import type { Sampler } from '../core/sampler.js';
import type { TrainingBackend } from '../engine/client.js';
import type { TrainSequence } from '../engine/wire.js';
import { builtInGame } from '../envs/games/builtin.js';
import { playMatches, type GameRecord, type Match } from '../envs/games/play.js';
import { modelPlayer, randomPlayer, type Player } from '../envs/games/players.js';
import { RunWriter } from '../runs/run-writer.js';
import { summarize } from './advantages.js';
import { estimateKuhn, headToHead, type HeadToHead, type KuhnEstimate } from './game-eval.js';
import { collapseSignals, League, repeatRate, type CollapseSignals, type Score } from './league.js';
import { packTrajectory } from './packing.js';
import { emptyBaselines, roleAdvantages, type RoleBaselines } from './role-advantages.js';
import type { SelfPlayConfig } from './self-play-config.js';
import { checkpointDirName } from './trainer-state.js';

/** A second sampler that serves one frozen snapshot at a time: keiko's engine, told to `load` a checkpoint. */
export interface OpponentServer {
  readonly sampler: Sampler;
  load(request: { path: string }): Promise<unknown>;
}

/** What one evaluation against the optimal player found. */
export interface SelfPlayEval {
  step: number;
  /** `validation` games (seen while choosing settings) or the held-out `test` games (scored once, at the end). */
  split: 'validation' | 'test';
  vsOptimal: HeadToHead['bySeat'];
  kuhn?: KuhnEstimate;
}

/** Progress events. */
export type SelfPlayEvent = { kind: 'step'; step: number; steps: number; metrics: StepMetrics } | { kind: 'eval'; eval: SelfPlayEval } | { kind: 'snapshot'; step: number; path: string };

/** Everything the self-play loop changes, in one place. */
export interface SelfPlayState {
  step: number;
  rng: Rng;
  baselines: RoleBaselines;
  league: League;
  /** The checkpoint the opponent server holds now. */
  loadedOpponent: string;
  /** The collapse response is active through this step. */
  responseUntil: number;
  t0: number;
}

/** What the run returns. */
export interface SelfPlayResult {
  runDir: string;
  steps: number;
  evals: SelfPlayEval[];
  league: League;
}

/**
 * Self-play training of one policy on a built-in game. Each step:
 *
 *   opponent: league mode draws a frozen snapshot (`opponentSampling`; the older half while the
 *     collapse response is active) and has the opponent server load it; scripted mode uses the
 *     fixed scripted opponent;
 *   play: `gamesPerStep` games — league mode plays `selfPlayShare` of them policy against policy
 *     (both seats trained), the rest policy against the opponent, seats alternating;
 *   advantages: every (game, role) the policy played gets A = R − b[game, role] (RAE,
 *     `roleAdvantages`), and each of its turns becomes one training sequence with the exact
 *     sampled tokens and that advantage;
 *   optimise: one engine `forward_backward` with the optimizer step;
 *   league: Elo from every game against a league member, collapse signals (entropy, repeated
 *     games, rating stagnation) and the configured response; a snapshot every `snapshotEvery` steps.
 *
 * Held-out evaluation against the game's optimal player (both seats; Kuhn poker also its exact
 * exploitability) runs before the first step, every `evalEvery` steps and after the last. The run
 * folder gets `metrics.jsonl`, `league.json`, `evals/self-play-step-<n>.json` and the evaluation
 * games move by move in `games/eval-step-<n>.jsonl`.
 */
export async function trainSelfPlay(options: {
  config: SelfPlayConfig;
  policy: { sampler: Sampler; training: TrainingBackend };
  opponents?: OpponentServer;
  /** The starting policy's model directory: the league's first member, and what the opponent server starts on. */
  startModel: string;
  runDir: string;
  modelName?: string;
  onEvent?: (event: SelfPlayEvent) => void;
}): Promise<SelfPlayResult> {
  const { config, policy, runDir } = options;
  const emit = options.onEvent ?? (() => {});
  const { game, optimal } = builtInGame(config.game);
  if (config.opponents === 'league' && !options.opponents) throw new RangeError("self-play with opponents = 'league' needs an opponent server (a second engine) to serve frozen snapshots");
  const folder = await RunWriter.start({ dir: runDir, kind: 'train', env: `self-play:${config.game}`, model: options.modelName ?? 'policy', config: { ...config } });
  const state: SelfPlayState = { step: 0, rng: new Rng(config.seed), baselines: emptyBaselines(), league: new League({ k: config.eloK }), loadedOpponent: options.startModel, responseUntil: -1, t0: performance.now() };
  const scripted = config.scriptedOpponent === 'optimal' ? optimal : randomPlayer();
  if (config.opponents === 'league') state.league.addSnapshot({ id: 'step-0', step: 0, path: options.startModel });
  else state.league.addScripted({ id: scripted.id, rating: 1000 });
  const evals: SelfPlayEval[] = [];
  const evaluate = async (split: 'validation' | 'test' = 'validation') => {
    const e = await evaluateVsOptimal({ config, game, sampler: policy.sampler, optimal, step: state.step, runDir, split });
    evals.push(e);
    emit({ kind: 'eval', eval: e });
    return e;
  };
  try {
    let lastEval = await evaluate();
    while (state.step < config.steps) {
      const step = state.step + 1;
      const metrics = await selfPlayStep({ config, game, policy, opponents: options.opponents, scripted, state, step });
      state.step = step;
      state.league.markStep(step);
      if (config.opponents === 'league' && step % config.snapshotEvery === 0) {
        const path = join(runDir, 'league', checkpointDirName(step));
        await policy.training.save({ path, optimizer: false });
        state.league.addSnapshot({ id: `step-${step}`, step, path });
        for (const gone of state.league.prune(config.leagueSize)) if (gone.path && gone.path.startsWith(join(runDir, 'league'))) rmSync(gone.path, { recursive: true, force: true });
        emit({ kind: 'snapshot', step, path });
      }
      if ((config.evalEvery > 0 && step % config.evalEvery === 0) || step === config.steps) lastEval = await evaluate();
      if (lastEval.step === step) Object.assign(metrics, evalMetrics(lastEval));
      metrics.rating = state.league.state.current.rating;
      await folder.appendMetrics(metrics);
      await writeJsonAtomic(join(runDir, 'league.json'), state.league.state);
      emit({ kind: 'step', step, steps: config.steps, metrics });
    }
    if (config.steps === 0) await writeJsonAtomic(join(runDir, 'league.json'), state.league.state);
    if (config.testGamesPerSide > 0) await evaluate('test');
    await folder.finish({ status: 'completed', summary: { steps: state.step } });
    return { runDir, steps: state.step, evals, league: state.league };
  } catch (error) {
    await folder.finish({ status: 'failed', error: error instanceof Error ? error.message : String(error) });
    throw error;
  }
}

/** One step: pick the opponent, play, RAE advantages, train, update the league. Returns the metrics line (without evals). */
async function selfPlayStep(options: { config: SelfPlayConfig; game: Game; policy: { sampler: Sampler; training: TrainingBackend }; opponents: OpponentServer | undefined; scripted: Player; state: SelfPlayState; step: number }): Promise<StepMetrics> {
  const { config, game, policy, state, step } = options;
  const rng = state.rng.fork(step);
  const responding = step <= state.responseUntil;
  const temperature = responding && config.collapseResponse === 'raise-temperature' ? config.temperature * 1.5 : config.temperature;
  const sampling = { temperature, maxTokens: config.maxTokens };
  const me = modelPlayer({ id: 'policy', sampler: policy.sampler, sampling, trains: true });

  // ── opponent ──
  let opponent: Player;
  let opponentId: string;
  let opponentStep = -1;
  if (config.opponents === 'scripted') {
    opponent = options.scripted;
    opponentId = options.scripted.id;
  } else {
    const member = state.league.sampleOpponent({ rng, mode: config.opponentSampling, olderHalf: responding && config.collapseResponse === 'older-opponents' });
    if (member.path !== state.loadedOpponent) {
      await options.opponents!.load({ path: member.path! });
      state.loadedOpponent = member.path!;
    }
    opponent = modelPlayer({ id: `snapshot:${member.id}`, sampler: options.opponents!.sampler, sampling });
    opponentId = member.id;
    opponentStep = member.step;
  }

  // ── play ──
  const selfGames = config.opponents === 'league' ? Math.round(config.gamesPerStep * config.selfPlayShare) : 0;
  const matches: Match[] = Array.from({ length: config.gamesPerStep }, (_, i) => {
    if (i < selfGames) return { players: Object.fromEntries(game.roles.map((r) => [r, me])) };
    const seat = game.roles[i % game.roles.length]!;
    return { players: Object.fromEntries(game.roles.map((r) => [r, r === seat ? me : opponent])) };
  });
  const tPlay = performance.now();
  const records = await playMatches({ game, matches, rng, illegalPenalty: config.illegalPenalty });
  const playSeconds = (performance.now() - tPlay) / 1000;

  // ── advantages and sequences ──
  const { sequences, rewards, advantages, missingTokens } = buildSelfPlayBatch({ game, records, baselines: state.baselines, decay: config.raeDecay });

  // ── optimise ──
  const tTrain = performance.now();
  let forward: Awaited<ReturnType<TrainingBackend['forwardBackward']>> | undefined;
  let gradNorm: number | null = null;
  let skipped = 1;
  if (sequences.length > 0) {
    const optimStep = { lr: config.lr, gradClip: config.maxGradNorm };
    forward = await policy.training.forwardBackward({ sequences, loss: { type: config.loss }, optimStep });
    if (!forward.nonfinite && forward.loss !== null) {
      const o = forward.optimStep ?? (await policy.training.optimStep(optimStep));
      gradNorm = o.gradNorm;
      skipped = o.skipped ? 1 : 0;
    }
  }
  const trainSeconds = (performance.now() - tTrain) / 1000;

  // ── league bookkeeping and collapse ──
  let vsScore = 0;
  let vsGames = 0;
  for (const r of records) {
    if (r.status === 'error') continue;
    const mine = game.roles.filter((role) => r.players[role] === 'policy');
    if (mine.length !== 1) continue; // a self-play game: no rating change
    const seat = mine[0]!;
    const others = game.roles.filter((role) => role !== seat).map((role) => r.rewards[role]!);
    const best = Math.max(...others);
    const score: Score = r.rewards[seat]! > best ? 1 : r.rewards[seat]! < best ? 0 : 0.5;
    state.league.recordGame(opponentId, score);
    vsScore += score;
    vsGames++;
  }
  const repeats = repeatRate(records.map((r) => [r.final, ...r.moves.map((m) => m.text)])); // the final state carries hidden deals (Kuhn's cards)
  const signals: CollapseSignals = collapseSignals({
    entropy: forward?.entropy ?? null,
    repeatRate: repeats,
    history: state.league.state.history,
    config: { entropyFloor: config.collapseEntropyFloor, repeatCeiling: config.collapseRepeatCeiling, stagnationWindow: config.collapseWindow, stagnationDelta: config.collapseDelta, response: config.collapseResponse, responseSteps: config.collapseResponseSteps },
  });
  if (signals.collapsed && config.collapseResponse !== 'none' && !responding) state.responseUntil = step + config.collapseResponseSteps;

  const policyIllegal = records.filter((r) => r.status === 'illegal' && r.players[r.illegalBy!] === 'policy').length;
  const r = summarize(rewards);
  return {
    schemaVersion: 1,
    step,
    time: (performance.now() - state.t0) / 1000,
    reward: r.mean,
    rewardStd: r.std,
    advantageMean: summarize(advantages).mean,
    games: records.length,
    selfPlayGames: selfGames,
    errorGames: records.filter((x) => x.status === 'error').length,
    illegalRate: policyIllegal / Math.max(1, records.length),
    opponentStep,
    vsOpponentScore: vsGames ? vsScore / vsGames : null,
    sequences: sequences.length,
    trainTokens: sequences.reduce((a, s) => a + s.lossMask.reduce<number>((x, y) => x + y, 0), 0),
    missingTokens,
    loss: forward?.loss ?? null,
    entropy: forward?.entropy ?? null,
    gradNorm,
    skipped,
    temperature,
    repeatRate: repeats,
    collapseLowEntropy: signals.lowEntropy ? 1 : 0,
    collapseRepetitive: signals.repetitive ? 1 : 0,
    collapseStagnant: signals.stagnant ? 1 : 0,
    collapseResponse: responding ? 1 : 0,
    playSeconds,
    trainingSeconds: trainSeconds,
  };
}

/**
 * The training batch of one step's games: for each game (errors left out) and each role the
 * policy played, the RAE advantage of that role's return, and one sequence per turn of that role
 * (prompt tokens masked out, sampled tokens trained with the sampler's logprobs). Updates `baselines`.
 */
export function buildSelfPlayBatch(options: { game: Game; records: readonly GameRecord[]; baselines: RoleBaselines; decay: number }): { sequences: TrainSequence[]; rewards: number[]; advantages: number[]; missingTokens: number } {
  const trajectories: { role: string; reward: number; turns: GameRecord['turns'] }[] = [];
  for (const record of options.records) {
    if (record.status === 'error') continue;
    for (const role of options.game.roles) {
      const turns = record.turns.filter((t) => t.role === role);
      if (turns.length > 0) trajectories.push({ role, reward: record.rewards[role]!, turns });
    }
  }
  const advantages = roleAdvantages({ baselines: options.baselines, decay: options.decay, returns: trajectories.map((t) => ({ game: options.game.name, role: t.role, reward: t.reward })) });
  const sequences: TrainSequence[] = [];
  let missingTokens = 0;
  trajectories.forEach((t, i) => {
    for (const { turn } of t.turns) {
      const packed = packTrajectory({ turns: [turn] });
      missingTokens += packed.missingTokens;
      for (const seq of packed.sequences) {
        sequences.push({ inputIds: seq.inputIds, lossMask: seq.lossMask, advantages: advantages[i]!, samplerLogprobs: seq.samplerLogprobs, ...(seq.policyVersion !== undefined ? { policyVersion: seq.policyVersion } : {}) });
      }
    }
  });
  return { sequences, rewards: trajectories.map((t) => t.reward), advantages, missingTokens };
}

/** The held-out evaluation: both seats against the optimal player (and Kuhn's exploitability), written to the run folder. */
export async function evaluateVsOptimal(options: { config: SelfPlayConfig; game: Game; sampler: Sampler; optimal: Player; step: number; runDir: string; split: 'validation' | 'test' }): Promise<SelfPlayEval> {
  const { config, game, step, runDir, split } = options;
  // Validation: the same games at every evaluation; test: other games (other seeds for the optimal player's choices, the deals and the sampler).
  const rng = new Rng(config.seed + (split === 'test' ? 2_000_003 : 1_000_003));
  const player = modelPlayer({ id: 'policy', sampler: options.sampler, sampling: { temperature: config.evalTemperature, maxTokens: config.maxTokens } });
  const gamesPerSide = split === 'test' ? config.testGamesPerSide : config.evalGamesPerSide;
  const h2h = await headToHead({ game, player, opponent: options.optimal, gamesPerSide, rng: rng.fork('h2h'), illegalPenalty: config.illegalPenalty });
  const kuhn = config.game === 'kuhn-poker' ? await estimateKuhn({ sampler: options.sampler, samples: config.exploitabilitySamples, temperature: config.temperature, maxTokens: config.maxTokens, rng: rng.fork('kuhn') }) : undefined;
  const result: SelfPlayEval = { step, split, vsOptimal: h2h.bySeat, ...(kuhn ? { kuhn } : {}) };
  const label = `${split === 'test' ? 'test' : 'step'}-${step}`;
  mkdirSync(join(runDir, 'games'), { recursive: true });
  mkdirSync(join(runDir, 'evals'), { recursive: true });
  await writeJsonAtomic(join(runDir, 'evals', `self-play-${label}.json`), result);
  await writeFileAtomic(join(runDir, 'games', `eval-${label}.jsonl`), toJsonl(h2h.records));
  return result;
}

/** An evaluation as metric fields: per seat wins/draws/losses/illegal against the optimal player, and exploitability. */
export function evalMetrics(e: SelfPlayEval): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [seat, r] of Object.entries(e.vsOptimal)) {
    out[`optimalWins_${seat}`] = r.wins;
    out[`optimalDraws_${seat}`] = r.draws;
    out[`optimalLosses_${seat}`] = r.losses;
    out[`optimalIllegal_${seat}`] = r.illegal;
    out[`optimalReward_${seat}`] = r.meanReward;
  }
  if (e.kuhn) {
    out['exploitability'] = e.kuhn.exploitability;
    out['exploitabilityIllegal'] = e.kuhn.illegalRate;
  }
  return out;
}
