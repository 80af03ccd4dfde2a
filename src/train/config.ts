import { z } from 'zod';
import { TRACKERS } from '../tracking/index.js';
import { checkSettings, looseValue, mergeSettings, parseSettingsArgv, readConfigFile, type SettingsSpec } from '../core/config/index.js';
import { ConfigError } from '../core/errors.js';
import { formatZodError } from '../core/parse.js';

export { readConfigFile };

/**
 * The one flat training config (nanoGPT style). Every field has a default (the `quick` preset:
 * 1-digit arithmetic); `keiko train` with no arguments runs the `beyond-imitation` preset
 * (`TRAIN_PRESETS`): create the tiny model, SFT-warm-start it on a careless teacher's
 * demonstrations, GRPO-train it, and evaluate teacher, SFT model and GRPO model on held-out tasks.
 */
export const TrainConfig = z
  .object({
    // ── environment ────────────────────────────────────────────────────────────────────────────
    preset: z
      .enum(['beyond-imitation', 'quick'])
      .optional()
      .describe(
        "A named set of defaults under every other setting. beyond-imitation (used when none of env, model, engineUrl is set): a careless teacher's demonstrations → SFT ≈ the teacher → GRPO well past it on column addition. quick: the 1-digit arithmetic run (a noisy teacher, 120 GRPO steps).",
      ),
    env: z.string().min(1).default('arithmetic').describe('Built-in environment name or path to a module exporting `loadEnvironment`.'),
    envArgs: z.record(z.string(), z.unknown()).default({ digits: 1, demoErrorRate: 0.3 }).describe('Arguments handed to the environment loader. The default suits the built-in arithmetic main job (1-digit sums, a teacher that is wrong 30% of the time); when a config or override sets `env` without `envArgs`, envArgs start empty instead.'),

    // ── model ──────────────────────────────────────────────────────────────────────────────────
    model: z.string().default('').describe("HF-format model directory. Empty: create keiko's built-in tiny model (see `create*`)."),
    createLayers: z.number().int().positive().default(2).describe('Transformer blocks of the created model (used when `model` is empty).'),
    createHidden: z.number().int().positive().default(64).describe('Hidden size of the created model.'),
    createHeads: z.number().int().positive().default(4).describe('Attention heads of the created model.'),
    createVocab: z.number().int().positive().default(320).describe('Vocabulary size of the tokenizer trained for the created model.'),
    createCorpusExamples: z.number().int().positive().default(2000).describe("Number of environment examples whose text trains the created model's tokenizer."),
    device: z.enum(['auto', 'cpu', 'cuda']).default('auto').describe('Device for the engine: auto = cuda when available, else cpu.'),
    threads: z.number().int().positive().default(1).describe('Torch CPU threads in the engine (1 measured fastest for tiny models on 2-core machines).'),
    ranks: z.number().int().positive().default(1).describe('Engine processes that train the model (torchrun ranks, FSDP2). 1 = one process that samples and trains. A multi-rank engine does not sample, so > 1 needs a separate sampler (not wired into keiko train yet).'),
    engineUrl: z.string().default('').describe('URL of an already running engine (it holds the model; no create/SFT/restarts); empty: keiko spawns one.'),

    // ── SFT warm start (before GRPO) ───────────────────────────────────────────────────────────
    sftSteps: z.number().int().nonnegative().optional().describe("Supervised steps on the environment's demonstrations before RL; 0 skips the warm start. Unset: 400 when keiko creates the model (`model` empty), 0 when `model` is given."),
    sftBatch: z.number().int().positive().default(32).describe('Demonstrations per SFT step.'),
    sftLr: z.number().positive().default(5e-3).describe('SFT learning rate.'),

    // ── sampling ───────────────────────────────────────────────────────────────────────────────
    steps: z.number().int().nonnegative().default(120).describe('RL steps (optimizer steps).'),
    promptsPerStep: z.number().int().positive().default(32).describe('Distinct prompts per step.'),
    groupSize: z.number().int().min(2).default(8).describe('Completions sampled per prompt (the GRPO group).'),
    maxTokens: z.number().int().positive().default(12).describe('Max new tokens per model call.'),
    temperature: z.number().min(0).max(5).default(1).describe('Sampling temperature of training rollouts.'),
    topP: z.number().gt(0).max(1).default(1).describe('Nucleus sampling p of training rollouts.'),
    maxTurns: z.number().int().positive().default(8).describe('Max turns per rollout (multi-turn environments).'),
    concurrency: z.number().int().positive().default(256).describe('Rollouts in flight at once.'),
    track: z.enum(TRACKERS).optional().describe('Send training and eval metrics to wandb, mlflow or tensorboard through its own client (bash scripts/setup-tracking.sh installs them).'),
    coalesce: z.boolean().default(true).describe("Merge a group's identical first-turn requests into one request with n choices (fewer HTTP calls)."),
    samplerRetries: z.number().int().nonnegative().default(2).describe('Attempts per failing model call before the rollout is recorded as an error.'),

    // ── sampler fleet (README "Scaling out") ──────────────────────────────────────────────────
    sampler: z.enum(['engine', 'vllm']).default('engine').describe("Who samples rollouts: keiko's engine (default; fastest for tiny models on CPU), or vLLM servers while the engine only trains."),
    vllm: z
      .object({
        urls: z.array(z.url()).default([]).describe('Running vLLM servers (base URLs, comma-separated), started with VLLM_SERVER_DEV_MODE=1 on the run\'s model; keiko syncs weights into them. Empty: keiko starts `vllm.servers`.'),
        servers: z.number().int().positive().default(1).describe('vLLM servers keiko starts and supervises (logs in the run folder, restarted when they die), when `vllm.urls` is empty.'),
        python: z.string().default('').describe('Python with vLLM installed; empty: the venv of `keiko vllm setup` (KEIKO_VLLM_VENV, else ~/.cache/keiko/vllm-venv).'),
        dtype: z.string().default('auto').describe("vLLM's --dtype: auto, float32 (logprobs equal to the engine's on CPU), bfloat16."),
        args: z.array(z.string()).default([]).describe('More vLLM server flags for the servers keiko starts, e.g. ["--gpu-memory-utilization", "0.5"].'),
        syncEvery: z.number().int().positive().default(1).describe('Sync weights to the servers every N optimizer steps (sooner when `maxStaleness` requires it).'),
        syncDir: z.string().default('').describe('Folder for the sync checkpoint, readable by every server (a shared filesystem across machines); empty: <run>/sync.'),
        startupTimeoutS: z.number().positive().default(600).describe('Seconds a started vLLM server may take to become healthy.'),
      })
      .strict()
      .default({ urls: [], servers: 1, python: '', dtype: 'auto', args: [], syncEvery: 1, syncDir: '', startupTimeoutS: 600 })
      .describe('vLLM sampler fleet (with `sampler = vllm`).'),

    // ── optimisation ───────────────────────────────────────────────────────────────────────────
    lr: z.number().positive().default(5e-4).describe('GRPO learning rate (AdamW).'),
    schedule: z.enum(['constant', 'linear', 'cosine']).default('constant').describe('Learning-rate schedule over `steps` (after warmup).'),
    warmupSteps: z.number().int().nonnegative().default(0).describe('Linear learning-rate warmup steps.'),
    weightDecay: z.number().min(0).default(0).describe('AdamW weight decay, in GRPO and in the SFT warm start.'),
    maxGradNorm: z.number().positive().nullable().default(1).describe('Gradient-norm clip; off (null in a file) disables it.'),
    loss: z.enum(['grpo', 'dr_grpo', 'dapo', 'gspo']).default('grpo').describe('Policy loss, computed by the engine.'),
    microBatchSize: z.number().int().positive().optional().describe("Sequences per engine forward/backward chunk (memory vs speed); unset: the engine's default (32)."),
    activationCheckpointing: z.boolean().default(false).describe('Recompute each decoder layer in the backward instead of keeping its activations (less engine memory, ~1/3 more compute).'),
    drGrpoTokens: z.number().int().positive().optional().describe("dr_grpo's constant per-sequence token normaliser (TRL: the max completion length); unset: maxTokens."),
    epsLow: z.number().min(0).default(0.2).describe('PPO clip range below 1.'),
    epsHigh: z.number().min(0).default(0.2).describe("PPO clip range above 1 (DAPO's clip-higher uses a larger epsHigh)."),
    klBeta: z.number().min(0).default(0).describe('KL penalty to the reference (initial) model; 0 disables and skips the reference model.'),
    isCorrection: z.boolean().default(true).describe('Truncated importance sampling for sampler/trainer mismatch on on-policy sequences (stale ones are PPO-clipped against the sampler instead).'),
    isCap: z.number().positive().default(2).describe('Cap on the truncated IS weight.'),
    lora: z.boolean().default(false).describe('Train LoRA adapters instead of all weights.'),
    loraRank: z.number().int().positive().default(8).describe('LoRA rank (with `lora`).'),
    loraAlpha: z.number().positive().default(16).describe('LoRA alpha (with `lora`).'),

    // ── advantages and filtering ───────────────────────────────────────────────────────────────
    advantageScale: z.enum(['group', 'batch', 'none']).default('group').describe('Std scaling of group-centred rewards: per group (GRPO), over the batch, or none (Dr. GRPO).'),
    rloo: z.boolean().default(false).describe('Leave-one-out baseline (RLOO) instead of the group mean.'),
    zeroVariance: z.enum(['keep', 'drop', 'resample']).default('drop').describe('Groups whose rewards are all equal: keep, drop, or drop and sample new prompts (DAPO).'),
    maxResampleRounds: z.number().int().nonnegative().default(2).describe('Extra sampling rounds allowed per step when `zeroVariance = resample`.'),
    overlong: z.enum(['none', 'mask', 'penalty']).default('none').describe('Truncated (overlong) rollouts: train on them, mask them out of the loss, or penalise.'),
    overlongPenalty: z.number().default(-1).describe('Reward added to truncated rollouts when `overlong = penalty`.'),

    // ── async ──────────────────────────────────────────────────────────────────────────────────
    async: z.boolean().default(false).describe("Generate the next step's rollouts while the current step trains."),
    maxStaleness: z.number().int().nonnegative().default(1).describe('Max optimizer steps between the policy that sampled a batch and the one it trains.'),

    // ── eval, checkpoints, bookkeeping ─────────────────────────────────────────────────────────
    evalEvery: z.number().int().positive().optional().describe('Held-out eval every N steps as well (unset: only before and after training).'),
    evalExamples: z.number().int().positive().default(100).describe('Held-out examples per eval.'),
    evalGroupSize: z.number().int().positive().default(4).describe('Rollouts per held-out example (more = less noisy eval at temperature > 0).'),
    evalTemperature: z.number().min(0).max(5).default(1).describe('Eval sampling temperature; 1 = the policy being trained, 0 = greedy.'),
    checkpointEvery: z.number().int().positive().nullable().default(10).describe('Checkpoint every N steps; off (null in a file): only at the end.'),
    keepCheckpoints: z.number().int().positive().nullable().default(2).describe('Keep only the newest N checkpoints; off (null in a file) keeps all.'),
    logRollouts: z.number().int().nonnegative().optional().describe('Rollouts written to `rollouts/step-N.jsonl` per step (0: none; unset: all).'),
    seed: z.number().int().default(0).describe('Random seed.'),
    outDir: z.string().default('runs').describe('Parent folder of run folders.'),
    runName: z.string().default('').describe('Run folder name; empty: `train-<timestamp>`.'),
  })
  .strict();
export type TrainConfig = z.infer<typeof TrainConfig>;
export type TrainConfigInput = z.input<typeof TrainConfig>;

/** All valid config keys, in declaration order. */
export const TRAIN_CONFIG_KEYS: readonly string[] = Object.keys(TrainConfig.shape);

/**
 * How `keiko train` takes its settings (flags, file keys, help): the schema above, the short flags
 * and the old names still read for one release.
 */
export const TRAIN_SETTINGS: SettingsSpec = {
  command: 'keiko train',
  schema: TrainConfig,
  aliases: { evalSamples: { to: 'evalGroupSize', deprecated: true } },
  positional: '[config.toml|config.json]',
  positionalConfigFile: true,
};

/**
 * Validates a raw config object. Unknown keys are a `ConfigError` with a did-you-mean; bad values
 * name the field and the rule.
 */
export function parseTrainConfig(raw: unknown): TrainConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError('training config must be an object of key = value pairs');
  }
  const parsed = TrainConfig.safeParse(checkSettings(TRAIN_SETTINGS, raw as Record<string, unknown>, 'the training config').values);
  if (!parsed.success) throw new ConfigError(`invalid training config: ${formatZodError(parsed.error)}`);
  const config = parsed.data;
  if (config.ranks > 1) {
    // the engine on N ranks trains only; keiko train does not start one under the vLLM sampler yet either
    throw new ConfigError(
      `ranks = ${config.ranks}: an engine on several ranks trains but does not sample, and keiko train does not yet start one next to a vLLM fleet; ` +
        'run with ranks = 1, or drive a multi-rank engine (`keiko engine serve --ranks N`) from your own trainer',
    );
  }
  if (config.sampler === 'vllm' && !config.model && config.createHidden / config.createHeads < 32) {
    throw new ConfigError(
      `sampler = vllm: the created model's head size would be ${config.createHidden / config.createHeads} (createHidden ${config.createHidden} / createHeads ${config.createHeads}); ` +
        "vLLM's CPU attention needs >= 32: set e.g. --createHidden 128 --createHeads 4",
    );
  }
  if (config.sampler === 'vllm' && config.engineUrl) {
    throw new ConfigError('sampler = vllm needs an engine keiko starts (it exports the weights the servers load); leave engineUrl empty');
  }
  if (config.epsHigh < config.epsLow && config.loss === 'dapo') {
    throw new ConfigError('dapo expects epsHigh >= epsLow (clip-higher); set epsHigh, e.g. --epsHigh=0.28');
  }
  return config;
}

/**
 * Parses loose `--key=value` flags (no schema): values are read as JSON when they parse, otherwise
 * kept as strings; `--a.b=1` sets a key inside an object. For scripts with flags of their own;
 * `keiko train` reads its flags with `loadTrainConfig`.
 */
export function parseOverrides(args: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const arg of args) {
    const match = /^--?([A-Za-z][\w.]*)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new ConfigError(`cannot read override '${arg}'; write --key=value`);
    const [head, ...rest] = match[1]!.split('.');
    const value = match[2] === undefined ? true : looseValue(match[2]);
    if (rest.length === 0) out[head!] = value;
    else ((out[head!] ??= {}) as Record<string, unknown>)[rest.join('.')] = value;
  }
  return out;
}

/**
 * The settings layers of `keiko train`, merged (later wins; object fields such as `envArgs` merge
 * key by key) and validated: defaults < `base` (a resumed run's saved config) < `file` < `overrides`
 * (argv: `--key value`, `--key=value`, kebab-case, `--envArgs.digits=2`; a config file may also come
 * as its first positional or `--config <file>`). Deprecated names print a notice on stderr.
 */
export function loadTrainConfig(options: { file?: string; overrides?: readonly string[]; base?: Record<string, unknown> }): TrainConfig {
  const argv = parseSettingsArgv(TRAIN_SETTINGS, options.overrides ?? []);
  const path = options.file ?? argv.configFile ?? argv.positionals[0];
  const extra = argv.positionals.slice(options.file || argv.configFile ? 0 : 1);
  if (extra.length > 0) throw new ConfigError(`unexpected argument '${extra[0]}'; keiko train takes one config file, then --key value or --key=value settings`);
  const base = options.base ? checkSettings(TRAIN_SETTINGS, dropSentinels(options.base), 'the saved config') : { values: {}, notices: [] };
  const file = path ? checkSettings(TRAIN_SETTINGS, readConfigFile(path), path) : { values: {}, notices: [] };
  for (const notice of [...new Set([...file.notices, ...argv.notices])]) process.stderr.write(`${notice}\n`);
  const layers = [base.values, dropSentinels(file.values), dropSentinels(argv.values)];
  const merged = mergeSettings(...layers);
  const setsEnv = layers.some((l) => 'env' in l);
  const setsEnvArgs = layers.some((l) => 'envArgs' in l);
  if (setsEnv && !setsEnvArgs) merged['envArgs'] = {};
  const preset = presetOf(merged);
  if (!preset) return parseTrainConfig(merged);
  return parseTrainConfig({ ...mergeSettings(TRAIN_PRESETS[preset], ...layers), preset, ...(setsEnv && !setsEnvArgs ? { envArgs: {} } : {}) });
}

/**
 * The presets' settings: each lies under the settings a run is given (file, flags, a resumed run's
 * saved config). `beyond-imitation` is keiko's headline in one command: its settings were chosen on
 * the column-addition validation split and it reports on the test split (bench/main-job/RESULTS.md).
 * `quick` is the schema's own defaults: 1-digit addition.
 */
export const TRAIN_PRESETS: Record<NonNullable<TrainConfig['preset']>, Record<string, unknown>> = {
  'beyond-imitation': {
    env: 'column-addition',
    // 3-digit addition given as column sums; the teacher forgets the units carry in 90% of its demonstrations
    envArgs: { digits: 3, count: 4000, evalCount: 200, evalSplit: 'test', slip: 'units-carry', carelessRate: 0.9, layout: 'sums' },
    createLayers: 2,
    createHidden: 128,
    createHeads: 8,
    createVocab: 320,
    sftSteps: 400,
    sftBatch: 64,
    sftLr: 3e-3,
    steps: 40,
    promptsPerStep: 32,
    groupSize: 8,
    maxTokens: 8,
    temperature: 1,
    lr: 5e-4,
    loss: 'grpo',
    advantageScale: 'group',
    zeroVariance: 'drop',
    evalExamples: 200,
    // like for like with the teacher, whose demonstrations are samples: T = 1, 4 samples per task
    evalTemperature: 1,
    evalGroupSize: 4,
    checkpointEvery: 20,
    keepCheckpoints: 1,
    logRollouts: 32,
  },
  quick: { env: 'arithmetic' },
};

/** The preset a merged config asks for: its `preset`, else `beyond-imitation` when it names no env, model or engine. */
function presetOf(merged: Record<string, unknown>): TrainConfig['preset'] {
  const named = merged['preset'];
  if (named !== undefined) {
    const parsed = TrainConfig.shape.preset.safeParse(named);
    if (!parsed.success) throw new ConfigError(`unknown preset ${JSON.stringify(named)}; available: ${Object.keys(TRAIN_PRESETS).join(', ')}`);
    return parsed.data;
  }
  return ['env', 'model', 'engineUrl'].some((k) => merged[k] !== undefined && merged[k] !== '') ? undefined : 'beyond-imitation';
}

/** Configs saved before the magic values went: -1 (`sftSteps`, `logRollouts`) and 0 (`evalEvery`) meant unset, 0 meant off (`maxGradNorm`, `checkpointEvery`, `keepCheckpoints`). */
function dropSentinels(raw: Record<string, unknown>): Record<string, unknown> {
  const out = { ...raw };
  for (const key of ['sftSteps', 'logRollouts']) if (out[key] === -1) delete out[key];
  if (out['evalEvery'] === 0) delete out['evalEvery'];
  for (const key of ['maxGradNorm', 'checkpointEvery', 'keepCheckpoints']) if (out[key] === 0) out[key] = null;
  return out;
}

/** SFT steps the job will run: `sftSteps`, or when unset 400 for a created model and 0 for a given one. */
export function effectiveSftSteps(config: TrainConfig): number {
  return config.sftSteps ?? (config.model ? 0 : 400);
}

/** Figures derived from the config, printed at start. */
export interface DerivedFigures {
  rolloutsPerStep: number;
  maxCompletionTokensPerStep: number;
  totalRollouts: number;
}

/** Derived figures: rollouts per step, an upper bound on sampled tokens per step, total rollouts. */
export function deriveFigures(config: TrainConfig): DerivedFigures {
  const rolloutsPerStep = config.promptsPerStep * config.groupSize;
  return {
    rolloutsPerStep,
    maxCompletionTokensPerStep: rolloutsPerStep * config.maxTokens * config.maxTurns,
    totalRollouts: rolloutsPerStep * config.steps,
  };
}

/**
 * The config as aligned `key = value` lines — only the settings that differ from the defaults, or
 * every one with `all` — followed by the derived figures.
 */
export function formatConfig(config: TrainConfig, options: { all?: boolean } = {}): string {
  const values = config as Record<string, unknown>;
  const defaults = parseTrainConfig({}) as Record<string, unknown>;
  const show = (k: string) => (k in values ? JSON.stringify(values[k]) : 'unset');
  const keys = options.all ? TRAIN_CONFIG_KEYS : TRAIN_CONFIG_KEYS.filter((k) => show(k) !== (k in defaults ? JSON.stringify(defaults[k]) : 'unset'));
  const width = Math.max(0, ...keys.map((k) => k.length));
  const lines = keys.map((k) => `  ${k.padEnd(width)} = ${show(k)}`);
  if (!options.all) lines.push(`  ${keys.length ? 'the other ' : ''}${TRAIN_CONFIG_KEYS.length - keys.length} settings at their defaults (--verbose lists them all)`);
  const d = deriveFigures(config);
  lines.push(
    `  prompts per step: ${config.promptsPerStep} · rollouts per step: ${d.rolloutsPerStep} · ` +
      `completion tokens per step ≤ ${d.maxCompletionTokensPerStep} · total rollouts: ${d.totalRollouts}`,
  );
  return lines.join('\n');
}

/** One setting that differs between two configs. */
export interface ConfigChange {
  key: string;
  /** The value in the first config (undefined: not set there). */
  before: unknown;
  after: unknown;
}

/**
 * The settings that differ between two configs (a run's saved `config.json` and the one about to
 * resume it), keys sorted, values compared as JSON; `ignore` lists keys left out.
 */
export function configChanges(saved: Readonly<Record<string, unknown>>, current: Readonly<Record<string, unknown>>, ignore: readonly string[] = []): ConfigChange[] {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(current)])].filter((k) => !ignore.includes(k)).sort();
  return keys.filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(current[k])).map((key) => ({ key, before: saved[key], after: current[key] }));
}
