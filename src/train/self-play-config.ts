import { z } from 'zod';
import { resolveSettings, type SettingsSpec } from '../core/config/index.js';

/**
 * The one flat self-play config: the game, the model keiko creates and its format-only warm start,
 * the self-play loop, the league and its collapse response, and the held-out evaluation against
 * the game's optimal player. Every field has a default.
 */
export const SelfPlayConfig = z
  .object({
    // ── game ─────────────────────────────────────────────────────────────────────────────────
    game: z.enum(['tic-tac-toe', 'kuhn-poker', 'nim']).default('tic-tac-toe').describe('Built-in game.'),
    illegalPenalty: z.number().max(0).default(-1).describe('Reward of a role whose reply names no legal move (the game ends there; the other roles get 0).'),
    seed: z.number().int().nonnegative().default(0).describe('Seed of everything random: model init, warm start, games, sampling.'),
    outDir: z.string().default('runs').describe('Folder that holds run folders.'),
    runName: z.string().default('').describe('Run folder name (default: self-play-<game>-<opponents>-seed<seed>).'),

    // ── model (created by keiko) and its format-only warm start ──────────────────────────────
    model: z.string().default('').describe('HF model directory to start from; empty: create a tiny one and warm-start it on the move format.'),
    createLayers: z.number().int().positive().default(2).describe('Transformer blocks of the created model.'),
    createHidden: z.number().int().positive().default(64).describe('Hidden size of the created model.'),
    createHeads: z.number().int().positive().default(4).describe('Attention heads of the created model.'),
    createVocab: z.number().int().positive().default(200).describe('Vocabulary of the created tokenizer (trained on observations and legal moves).'),
    formatSteps: z.number().int().nonnegative().default(150).describe('SFT steps on uniformly random legal moves (the move format only, no strategy); 0 skips.'),
    formatBatch: z.number().int().positive().default(64).describe('Positions per format step.'),
    formatLr: z.number().positive().default(3e-3).describe('Format warm-start learning rate.'),
    threads: z.number().int().positive().default(1).describe('Torch threads per engine process.'),
    device: z.enum(['auto', 'cpu', 'cuda']).default('auto').describe('Engine device.'),

    // ── self-play loop ───────────────────────────────────────────────────────────────────────
    steps: z.number().int().nonnegative().default(60).describe('Optimizer steps.'),
    gamesPerStep: z.number().int().positive().default(64).describe('Games played per step.'),
    opponents: z.enum(['league', 'scripted']).default('league').describe("'league': self-play against the current policy and its frozen snapshots; 'scripted': every game against `scriptedOpponent` (the fixed-opponent baseline)."),
    scriptedOpponent: z.enum(['random', 'optimal']).default('random').describe("The fixed opponent of `opponents = 'scripted'`."),
    selfPlayShare: z.number().min(0).max(1).default(0.5).describe('League mode: share of games against the current policy itself (both seats trained); the rest against a snapshot.'),
    temperature: z.number().min(0).default(1).describe('Sampling temperature during training.'),
    maxTokens: z.number().int().positive().default(4).describe('Max new tokens per move.'),
    lr: z.number().positive().default(1e-3).describe('Learning rate (constant).'),
    loss: z.enum(['grpo', 'dr_grpo', 'dapo']).default('grpo').describe('Policy-gradient loss (engine/API.md).'),
    raeDecay: z.number().min(0).lt(1).default(0.95).describe('EMA decay of the role-conditioned baselines (RAE, SPIRAL).'),
    maxGradNorm: z.number().positive().default(1).describe('Gradient clipping norm.'),

    // ── league ───────────────────────────────────────────────────────────────────────────────
    snapshotEvery: z.number().int().positive().default(10).describe('Freeze the policy into the league every this many steps.'),
    leagueSize: z.number().int().min(2).default(6).describe('Snapshots kept (the first, the starting policy, is always kept).'),
    opponentSampling: z.enum(['uniform', 'prioritised', 'latest']).default('prioritised').describe('How league opponents are drawn.'),
    eloK: z.number().positive().default(16).describe('Elo K factor.'),
    collapseEntropyFloor: z.number().min(0).default(0.02).describe('Mean token entropy below which the policy counts as collapsed.'),
    collapseRepeatCeiling: z.number().min(0).max(1).default(0.9).describe("Share of a step's games that copy another game move for move above which play counts as collapsed."),
    collapseWindow: z.number().int().nonnegative().default(20).describe('Steps over which the rating must rise by `collapseDelta` (0: no stagnation check).'),
    collapseDelta: z.number().default(0).describe('Minimum rating gain over `collapseWindow` steps.'),
    collapseResponse: z.enum(['none', 'older-opponents', 'raise-temperature']).default('older-opponents').describe('What a collapse signal triggers.'),
    collapseResponseSteps: z.number().int().positive().default(5).describe('Steps the response lasts.'),

    // ── evaluation (against the optimal player) ──────────────────────────────────────────────
    evalEvery: z.number().int().nonnegative().default(10).describe('Evaluate against the optimal player every this many steps (0: only before and after).'),
    evalGamesPerSide: z.number().int().positive().default(100).describe('Games per seat against the optimal player.'),
    testGamesPerSide: z.number().int().nonnegative().default(100).describe('Held-out test games per seat against the optimal player after training, on other seeds than the validation games (0: none).'),
    evalTemperature: z.number().min(0).default(0).describe('Sampling temperature of evaluation games (0 = greedy).'),
    exploitabilitySamples: z.number().int().positive().default(64).describe('Kuhn poker: samples per information set to estimate the policy for exact exploitability.'),
  })
  .strict();
export type SelfPlayConfig = z.infer<typeof SelfPlayConfig>;

export const SELF_PLAY_SETTINGS: SettingsSpec<typeof SelfPlayConfig> = { command: 'keiko self-play', schema: SelfPlayConfig, positional: '[config.toml]', positionalConfigFile: true };

/** The config from an optional file and `--key=value` overrides (defaults < file < overrides). */
export function loadSelfPlayConfig(options: { file?: string; overrides?: readonly string[] }): SelfPlayConfig {
  const argv = [...(options.file ? ['--config', options.file] : []), ...(options.overrides ?? [])];
  return resolveSettings(SELF_PLAY_SETTINGS, argv).config;
}
