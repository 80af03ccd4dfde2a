import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { Game } from '../core/game.js';
import { Rng } from '../core/rng.js';
import { EngineChatTokenizer } from '../engine/chat-tokenizer.js';
import { EngineClient } from '../engine/client.js';
import type { EngineSpawnOptions } from '../engine/process.js';
import { builtInGame } from '../envs/games/builtin.js';
import type { SelfPlayConfig } from './self-play-config.js';
import { trainSelfPlay, type SelfPlayEvent, type SelfPlayResult } from './self-play.js';
import { trainSft, type SftRecord } from './sft.js';
import { lastCheckpoint } from './trainer-state.js';

/**
 * Positions from games of uniformly random legal play, each paired with a uniformly random legal
 * move: the move *format* and nothing else (no strategy from anyone). Each record is one role's
 * observation and one legal move. `count` records, drawn from as many random games as needed.
 */
export function formatRecords(options: { game: Game; count: number; rng: Rng }): SftRecord[] {
  const { game, rng } = options;
  const out: SftRecord[] = [];
  while (out.length < options.count) {
    let state = game.setupState(rng);
    for (let role = game.toMove(state); role !== null && out.length < options.count; role = game.toMove(state)) {
      const move = rng.choice(game.legalMoves(state));
      out.push({ messages: [{ role: 'user', content: game.observe(state, role) }, { role: 'assistant', content: move }] });
      state = game.applyMove(state, move);
    }
  }
  return out;
}

/** The run folder of a config: `<outDir>/<runName>`, by default `self-play-<game>-<opponents>-seed<seed>`. */
export function selfPlayRunDir(config: SelfPlayConfig): string {
  const name = config.runName || `self-play-${config.game}-${config.opponents === 'league' ? 'league' : `vs-${config.scriptedOpponent}`}-seed${config.seed}`;
  return resolve(config.outDir, name);
}

/** What the job did. */
export interface SelfPlayJobResult {
  runDir: string;
  startModel: string;
  formatSeconds: number;
  result: SelfPlayResult;
  seconds: number;
}

/** How the job spawns engines: torch held to `threads`, no automatic restart, no KL reference. */
function spawnOptions(config: SelfPlayConfig, engineEnv: Record<string, string> | undefined): Omit<EngineSpawnOptions, 'model'> {
  const threads = String(config.threads);
  return { threads: config.threads, device: config.device, seed: config.seed, restart: false, reference: 'none', startupTimeoutMs: 180_000, env: { OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads, TOKENIZERS_PARALLELISM: 'false', ...engineEnv } };
}

/**
 * The starting policy in `dir`: `config.model` when given, else keiko's tiny model created there
 * (tokenizer trained on observations and moves of random play) and, with `formatSteps > 0`,
 * warm-started on the move format only (`formatRecords`: uniformly random legal moves). Returns the
 * model directory to self-play from and the warm start's seconds.
 */
export async function prepareStartModel(options: { config: SelfPlayConfig; dir: string; onEvent?: (event: { kind: 'phase'; message: string }) => void; engineEnv?: Record<string, string> }): Promise<{ model: string; formatSeconds: number }> {
  const { config, dir } = options;
  const emit = options.onEvent ?? (() => {});
  const { game } = builtInGame(config.game);
  const rng = new Rng(config.seed).fork('format');
  mkdirSync(dir, { recursive: true });
  let model: string;
  if (config.model) {
    model = resolve(config.model);
    if (!existsSync(join(model, 'config.json'))) throw new ConfigError(`model '${config.model}' is not a Hugging Face model directory (no config.json)`);
  } else {
    model = join(dir, 'model-init');
    emit({ kind: 'phase', message: `creating a tiny model (${config.createLayers} layers, hidden ${config.createHidden}, vocab ${config.createVocab})` });
    const corpus = join(dir, 'tokenizer-corpus.txt');
    writeFileSync(corpus, formatRecords({ game, count: 3000, rng: rng.fork('corpus') }).flatMap((r) => r.messages.map((m) => m.content)).join('\n') + '\n');
    await EngineClient.createModel({ out: model, corpus: [corpus], vocabSize: config.createVocab, hidden: config.createHidden, layers: config.createLayers, heads: config.createHeads, seed: config.seed });
  }
  if (config.formatSteps === 0) return { model, formatSeconds: 0 };
  emit({ kind: 'phase', message: `format warm start: ${config.formatSteps} steps × ${config.formatBatch} uniformly random legal moves` });
  const engine = await EngineClient.spawn({ ...spawnOptions(config, options.engineEnv), model });
  try {
    const sft = await trainSft({
      source: { kind: 'records', records: formatRecords({ game, count: Math.max(2000, config.formatBatch * 20), rng: rng.fork('records') }) },
      training: engine,
      tokenizer: new EngineChatTokenizer({ http: engine.routes }),
      sft: { steps: config.formatSteps, batch: config.formatBatch, lr: config.formatLr, seed: config.seed, schedule: 'cosine', warmupSteps: Math.min(10, config.formatSteps) },
      runDir: join(dir, 'format'),
      modelName: basename(model),
      config: { ...config },
    });
    if (!lastCheckpoint(join(dir, 'format', 'checkpoints'))) throw new Error('format warm start left no checkpoint');
    return { model: sft.checkpoint, formatSeconds: sft.seconds };
  } finally {
    await engine.stop();
  }
}

/**
 * The whole self-play job: (1) the starting policy (`prepareStartModel`: created, format-only warm
 * start); (2) serve it in the policy engine and, in league mode, in a second engine that serves
 * one frozen snapshot at a time (it `load`s the checkpoint the step's opponent was frozen in: one
 * extra process however large the league, and a load is a fraction of a second for a tiny model);
 * (3) self-play training (`trainSelfPlay`), with its held-out test evaluation at the end.
 */
export async function runSelfPlayJob(options: { config: SelfPlayConfig; onEvent?: (event: SelfPlayEvent | { kind: 'phase'; message: string }) => void; engineEnv?: Record<string, string> }): Promise<SelfPlayJobResult> {
  const { config } = options;
  const emit = options.onEvent ?? (() => {});
  const runDir = selfPlayRunDir(config);
  if (existsSync(join(runDir, 'run.json'))) throw new ConfigError(`${runDir} already holds a run; move or delete it, or pass --runName=<new name>`);
  const t0 = performance.now();
  const { model: startModel, formatSeconds } = await prepareStartModel({ config, dir: runDir, onEvent: emit, ...(options.engineEnv ? { engineEnv: options.engineEnv } : {}) });
  const spawn = spawnOptions(config, options.engineEnv);
  emit({ kind: 'phase', message: `self-play on ${config.game}: ${config.steps} steps × ${config.gamesPerStep} games, opponents: ${config.opponents}` });
  const policy = await EngineClient.spawn({ ...spawn, model: startModel });
  const opponents = config.opponents === 'league' ? await EngineClient.spawn({ ...spawn, model: startModel }).catch(async (e: unknown) => (await policy.stop(), Promise.reject(e))) : undefined;
  try {
    const result = await trainSelfPlay({
      config,
      policy: { sampler: policy.sampler({ seed: config.seed }), training: policy },
      ...(opponents ? { opponents: { sampler: opponents.sampler({ seed: config.seed + 1 }), load: (r: { path: string }) => opponents.load(r) } } : {}),
      startModel,
      runDir,
      modelName: basename(startModel),
      onEvent: emit,
    });
    return { runDir, startModel, formatSeconds, result, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await Promise.all([policy.stop(), opponents?.stop()]);
  }
}
