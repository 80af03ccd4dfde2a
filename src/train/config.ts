import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { formatZodError } from '../core/parse.js';

export const TRAIN_CONFIG_SCHEMA_VERSION = 1;

/**
 * The one flat training config (nanoGPT style). Every field has a default; `keiko train` with no
 * arguments runs the built-in main job: create the tiny model, SFT-warm-start it on the arithmetic
 * environment's noisy demonstrations, GRPO-train it, and evaluate before/after on held-out problems.
 */
export const TrainConfig = z
  .object({
    // ── environment ────────────────────────────────────────────────────────────────────────────
    /** Built-in environment name or path to a module exporting `loadEnvironment`. */
    env: z.string().min(1).default('arithmetic'),
    /**
     * Arguments handed to the environment loader. The default suits the built-in arithmetic main
     * job (1-digit sums, a teacher that is wrong 30% of the time); when a config or override sets
     * `env` without `envArgs`, envArgs start empty instead.
     */
    envArgs: z.record(z.string(), z.unknown()).default({ digits: 1, demoErrorRate: 0.3 }),

    // ── model ──────────────────────────────────────────────────────────────────────────────────
    /** HF-format model directory. Empty: create keiko's built-in tiny model (see `create*`). */
    model: z.string().default(''),
    /** Tiny-model shape used when `model` is empty (engine `create`). */
    createLayers: z.number().int().positive().default(2),
    createHidden: z.number().int().positive().default(64),
    createHeads: z.number().int().positive().default(4),
    /** Vocabulary size of the tokenizer trained for the created model. */
    createVocab: z.number().int().positive().default(320),
    /** Number of environment examples whose text trains the created model's tokenizer. */
    createCorpusExamples: z.number().int().positive().default(2000),
    /** Device for the engine: auto = cuda when available, else cpu. */
    device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
    /** Torch CPU threads in the engine (1 measured fastest for tiny models on 2-core machines). */
    threads: z.number().int().positive().default(1),
    /**
     * Engine processes that train the model (torchrun ranks, FSDP2). 1 = one process that samples and
     * trains. A multi-rank engine does not sample, so > 1 needs a separate sampler (not available yet).
     */
    ranks: z.number().int().positive().default(1),
    /** URL of an already running engine (it holds the model; no create/SFT/restarts); empty: keiko spawns one. */
    engineUrl: z.string().default(''),

    // ── SFT warm start (before GRPO) ───────────────────────────────────────────────────────────
    /**
     * Supervised steps on the environment's demonstrations before RL; 0 skips the warm start.
     * -1 (default) = auto: 400 when keiko creates the model (`model` empty), 0 when `model` is given.
     */
    sftSteps: z.number().int().min(-1).default(-1),
    /** Demonstrations per SFT step. */
    sftBatch: z.number().int().positive().default(32),
    /** SFT learning rate. */
    sftLr: z.number().positive().default(5e-3),

    // ── sampling ───────────────────────────────────────────────────────────────────────────────
    /** RL steps (optimizer steps). */
    steps: z.number().int().nonnegative().default(120),
    /** Distinct prompts per step. */
    promptsPerStep: z.number().int().positive().default(32),
    /** Completions sampled per prompt (the GRPO group). */
    groupSize: z.number().int().min(2).default(8),
    /** Max new tokens per model call. */
    maxTokens: z.number().int().positive().default(12),
    temperature: z.number().min(0).max(5).default(1),
    topP: z.number().gt(0).max(1).default(1),
    /** Max turns per rollout (multi-turn environments). */
    maxTurns: z.number().int().positive().default(8),
    /** Rollouts in flight at once. */
    concurrency: z.number().int().positive().default(256),
    /** Merge a group's identical first-turn requests into one request with n choices (fewer HTTP calls). */
    coalesce: z.boolean().default(true),
    /** Attempts per failing model call before the rollout is recorded as an error. */
    samplerRetries: z.number().int().nonnegative().default(2),

    // ── optimisation ───────────────────────────────────────────────────────────────────────────
    lr: z.number().positive().default(5e-4),
    /** Learning-rate schedule over `steps` (after warmup). */
    schedule: z.enum(['constant', 'linear', 'cosine']).default('constant'),
    warmupSteps: z.number().int().nonnegative().default(0),
    /** AdamW weight decay, in GRPO and in the SFT warm start. */
    weightDecay: z.number().min(0).default(0),
    /** Gradient-norm clip; 0 disables. */
    maxGradNorm: z.number().min(0).default(1),
    /** Policy loss, computed by the engine. */
    loss: z.enum(['grpo', 'dr_grpo', 'dapo', 'gspo']).default('grpo'),
    /** Sequences per engine forward/backward chunk (memory vs speed); unset: the engine's default (32). */
    microBatchSize: z.number().int().positive().optional(),
    /** dr_grpo's constant per-sequence token normaliser (TRL: the max completion length); unset: maxTokens. */
    drGrpoTokens: z.number().int().positive().optional(),
    /** PPO clip range below / above 1 (DAPO's clip-higher uses a larger epsHigh). */
    epsLow: z.number().min(0).default(0.2),
    epsHigh: z.number().min(0).default(0.2),
    /** KL penalty to the reference (initial) model; 0 disables and skips the reference model. */
    klBeta: z.number().min(0).default(0),
    /** Importance-sampling correction for sampler/trainer mismatch (truncated IS weights). */
    isCorrection: z.boolean().default(true),
    /** Cap on the truncated IS weight. */
    isCap: z.number().positive().default(2),
    /** Train LoRA adapters instead of all weights. */
    lora: z.boolean().default(false),
    loraRank: z.number().int().positive().default(8),
    loraAlpha: z.number().positive().default(16),

    // ── advantages and filtering ───────────────────────────────────────────────────────────────
    /** Std scaling of group-centred rewards: per group (GRPO), over the batch, or none (Dr. GRPO). */
    advantageScale: z.enum(['group', 'batch', 'none']).default('group'),
    /** Leave-one-out baseline (RLOO) instead of the group mean. */
    rloo: z.boolean().default(false),
    /** Groups whose rewards are all equal: keep, drop, or drop and sample new prompts (DAPO). */
    zeroVariance: z.enum(['keep', 'drop', 'resample']).default('drop'),
    /** Extra sampling rounds allowed per step when `zeroVariance = resample`. */
    maxResampleRounds: z.number().int().nonnegative().default(2),
    /** Truncated (overlong) rollouts: train on them, mask them out of the loss, or penalise. */
    overlong: z.enum(['none', 'mask', 'penalty']).default('none'),
    /** Reward added to truncated rollouts when `overlong = penalty`. */
    overlongPenalty: z.number().default(-1),

    // ── async ──────────────────────────────────────────────────────────────────────────────────
    /** Generate the next step's rollouts while the current step trains. */
    async: z.boolean().default(false),
    /** Max optimizer steps between the policy that sampled a batch and the one it trains. */
    maxStaleness: z.number().int().nonnegative().default(1),

    // ── eval, checkpoints, bookkeeping ─────────────────────────────────────────────────────────
    /** Held-out eval every N steps (0: only before and after training). */
    evalEvery: z.number().int().nonnegative().default(0),
    /** Held-out examples per eval. */
    evalExamples: z.number().int().positive().default(100),
    /** Samples per held-out example (more = less noisy eval at temperature > 0). */
    evalSamples: z.number().int().positive().default(4),
    /** Eval sampling temperature; 1 = the policy being trained, 0 = greedy. */
    evalTemperature: z.number().min(0).max(5).default(1),
    /** Checkpoint every N steps (0: only at the end). */
    checkpointEvery: z.number().int().nonnegative().default(10),
    /** Keep only the newest N checkpoints (0 keeps all). */
    keepCheckpoints: z.number().int().nonnegative().default(2),
    /** Rollouts written to `rollouts/step-N.jsonl` per step (0: none, -1: all). */
    logRollouts: z.number().int().min(-1).default(-1),
    seed: z.number().int().default(0),
    /** Parent folder of run folders. */
    outDir: z.string().default('runs'),
    /** Run folder name; empty: `train-<timestamp>`. */
    runName: z.string().default(''),
  })
  .strict();
export type TrainConfig = z.infer<typeof TrainConfig>;
export type TrainConfigInput = z.input<typeof TrainConfig>;

/** All valid config keys, in declaration order. */
export const TRAIN_CONFIG_KEYS: readonly string[] = Object.keys(TrainConfig.shape);

/**
 * Validates a raw config object. Unknown keys are a `ConfigError` naming the valid keys; bad
 * values name the field and the rule.
 */
export function parseTrainConfig(raw: unknown): TrainConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError('training config must be an object of key = value pairs');
  }
  const unknown = Object.keys(raw).filter((k) => !TRAIN_CONFIG_KEYS.includes(k));
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown config key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; valid keys: ${TRAIN_CONFIG_KEYS.join(', ')}`,
    );
  }
  const parsed = TrainConfig.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid training config: ${formatZodError(parsed.error)}`);
  const config = parsed.data;
  if (config.ranks > 1) {
    // the engine on N ranks trains only: the GRPO loop would have nothing to sample from
    throw new ConfigError(
      `ranks = ${config.ranks}: an engine on several ranks trains but does not sample, and keiko train has no separate sampler yet ` +
        '(a vLLM sampler is planned); run with ranks = 1, or drive a multi-rank engine (`keiko engine serve --ranks N`) from your own trainer',
    );
  }
  if (config.epsHigh < config.epsLow && config.loss === 'dapo') {
    throw new ConfigError('dapo expects epsHigh >= epsLow (clip-higher); set epsHigh, e.g. --epsHigh=0.28');
  }
  return config;
}

/** Reads a TOML (`.toml`) or JSON (`.json`) config file into a plain object (not yet validated). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file '${path}': ${(error as Error).message}`, { cause: error });
  }
  const ext = extname(path).toLowerCase();
  let raw: unknown;
  try {
    if (ext === '.toml') raw = parseToml(text);
    else if (ext === '.json') raw = JSON.parse(text) as unknown;
    else throw new ConfigError(`config file '${path}' must end in .toml or .json`);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot parse config file '${path}': ${(error as Error).message}`, { cause: error });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`config file '${path}' must hold an object of key = value pairs`);
  }
  return raw as Record<string, unknown>;
}

/**
 * Parses `--key=value` overrides. Values are read as JSON when they parse (numbers, booleans,
 * objects), otherwise kept as strings. `--envArgs.digits=2` sets one key inside an object field.
 */
export function parseOverrides(args: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const arg of args) {
    const match = /^--?([A-Za-z][\w.]*)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new ConfigError(`cannot read override '${arg}'; write --key=value (valid keys: ${TRAIN_CONFIG_KEYS.join(', ')})`);
    const key = match[1]!;
    const [head, ...rest] = key.split('.');
    // String fields keep the text as written (`--runName=007`); others are read as JSON.
    const stringField = rest.length === 0 && typeof STRING_DEFAULTS[head!] === 'string';
    const value = match[2] === undefined ? true : stringField ? match[2] : coerce(match[2]);
    if (rest.length === 0) {
      out[head!] = value;
    } else {
      const target = (out[head!] ??= {}) as Record<string, unknown>;
      if (typeof target !== 'object' || target === null) throw new ConfigError(`override '${arg}' sets a key inside '${head}', which is not an object`);
      target[rest.join('.')] = value;
    }
  }
  return out;
}

const STRING_DEFAULTS: Record<string, unknown> = TrainConfig.parse({});

function coerce(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Merges layers (later wins; object fields such as `envArgs` are merged key by key) and validates. */
export function loadTrainConfig(options: { file?: string; overrides?: readonly string[]; base?: Record<string, unknown> }): TrainConfig {
  const layers = [options.base ?? {}, options.file ? readConfigFile(options.file) : {}, parseOverrides(options.overrides ?? [])];
  const merged: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      const prev = merged[k];
      merged[k] = isPlainObject(prev) && isPlainObject(v) ? { ...prev, ...v } : v;
    }
  }
  const setsEnv = layers.some((l) => 'env' in l);
  const setsEnvArgs = layers.some((l) => 'envArgs' in l);
  if (setsEnv && !setsEnvArgs) merged['envArgs'] = {};
  return parseTrainConfig(merged);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** SFT steps the job will run: `sftSteps`, with -1 resolved (400 for a created model, else 0). */
export function effectiveSftSteps(config: TrainConfig): number {
  if (config.sftSteps >= 0) return config.sftSteps;
  return config.model ? 0 : 400;
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

/** The config as aligned `key = value` lines followed by the derived figures. */
export function formatConfig(config: TrainConfig): string {
  const width = Math.max(...TRAIN_CONFIG_KEYS.map((k) => k.length));
  const lines = Object.entries(config).map(([k, v]) => `  ${k.padEnd(width)} = ${JSON.stringify(v)}`);
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
