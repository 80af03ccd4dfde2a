import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Environment } from '../core/environment.js';
import { ConfigError, EngineError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { StepMetrics } from '../core/run-manifest.js';
import type { Sampler } from '../core/sampler.js';
import { EngineChatTokenizer } from '../engine/chat-tokenizer.js';
import { EngineClient } from '../engine/client.js';
import type { EngineSpawnOptions } from '../engine/process.js';
import { VllmFleet, type FleetEvent } from '../engine/vllm/fleet.js';
import { CoalescingSampler } from './coalescing-sampler.js';
import { effectiveSftSteps, type TrainConfig } from './config.js';
import { evaluateTeacher, type TeacherReport } from './evaluate.js';
import { demonstrationSource, trainSft, type SftResult } from './sft.js';
import { trainGrpo, type GrpoResult, type PolicyEngine, type TrainEvent } from './trainer.js';
import { lastCheckpoint } from './trainer-state.js';

/** Progress of the whole job, for the CLI. */
export type JobEvent =
  | { kind: 'phase'; phase: 'create' | 'sft' | 'engine' | 'grpo' | 'done'; message: string }
  | { kind: 'sft-step'; step: number; steps: number; metrics: StepMetrics }
  | TrainEvent;

/** What `runTrainJob` did. */
export interface TrainJobResult {
  runDir: string;
  modelDir: string;
  sft?: SftResult;
  grpo: GrpoResult;
  /**
   * The held-out reward of the environment's teacher (its demonstrations, scored like the policy's
   * samples) when the model was warm-started on them: the figure SFT imitates and GRPO must beat.
   */
  teacher?: TeacherReport;
  seconds: number;
}

/**
 * The whole training job behind `keiko train`: (1) create keiko's tiny model when `config.model`
 * is empty — a tokenizer trained on text the environment generates, random weights; (2) SFT-warm-
 * start it on the environment's demonstrations when `sftSteps > 0`; (3) serve the result in a fresh
 * engine (its KL reference is the warm-started model) and GRPO-train with before/after held-out
 * evals. With `resume`, finished phases are skipped and GRPO continues from its last checkpoint.
 */
export async function runTrainJob(options: {
  config: TrainConfig;
  env: Environment;
  runDir: string;
  resume?: boolean;
  onEvent?: (event: JobEvent) => void;
  /** Called whenever the GRPO engine process (re)starts, with its pid (tests use it to kill it). */
  onEngineStart?: (engine: { pid: number | undefined; baseUrl: string }) => void;
  /** With `sampler = vllm`: the fleet's events (servers started, died, restarted, synced). */
  onVllmEvent?: (event: FleetEvent) => void;
  /** With `sampler = vllm`: the fleet once started (tests read its servers' pids). */
  onFleet?: (fleet: VllmFleet) => void;
  signal?: AbortSignal;
}): Promise<TrainJobResult> {
  const { config, env } = options;
  const emit = options.onEvent ?? (() => {});
  const runDir = resolve(options.runDir);
  const t0 = performance.now();
  mkdirSync(runDir, { recursive: true });
  const engineOptions = engineSpawnOptions(config, runDir);

  if (config.engineUrl) {
    // An engine that is already running (and holds its model): no create, no SFT, no restarts.
    const client = await EngineClient.connect({ url: config.engineUrl });
    const training = client;
    const info = await training.info();
    const sampler = makeSampler(client, config);
    emit({ kind: 'phase', phase: 'grpo', message: `GRPO on the engine at ${config.engineUrl} (${info.model}): ${config.steps} steps × ${config.promptsPerStep} prompts × ${config.groupSize} samples` });
    const grpo = await trainGrpo({ config, env, engine: { sampler, training }, runDir, modelName: info.model, resume: options.resume ?? false, onEvent: emit, ...(options.signal ? { signal: options.signal } : {}) });
    emit({ kind: 'phase', phase: 'done', message: 'done' });
    return { runDir, modelDir: info.model, grpo, seconds: (performance.now() - t0) / 1000 };
  }

  let modelDir: string;
  if (config.model) {
    modelDir = resolve(config.model);
    if (!existsSync(join(modelDir, 'config.json'))) throw new ConfigError(`model '${config.model}' is not a Hugging Face model directory (no config.json)`);
  } else {
    modelDir = join(runDir, 'model-init');
    if (!existsSync(join(modelDir, 'config.json'))) {
      emit({ kind: 'phase', phase: 'create', message: `creating a tiny model (${config.createLayers} layers, hidden ${config.createHidden}, vocab ${config.createVocab})` });
      const corpus = join(runDir, 'tokenizer-corpus.txt');
      writeFileSync(corpus, environmentCorpus({ env, examples: config.createCorpusExamples, seed: config.seed }));
      await EngineClient.createModel({ out: modelDir, corpus: [corpus], vocabSize: config.createVocab, hidden: config.createHidden, layers: config.createLayers, heads: config.createHeads, seed: config.seed });
    }
  }

  let sft: SftResult | undefined;
  let rlModel = modelDir;
  const sftSteps = effectiveSftSteps(config);
  if (sftSteps > 0) {
    const sftDir = join(runDir, 'sft');
    const done = lastCheckpoint(join(sftDir, 'checkpoints'));
    if (done && done.state.kind === 'sft' && done.state.step === sftSteps) {
      rlModel = done.dir;
    } else {
      emit({ kind: 'phase', phase: 'sft', message: `SFT warm start: ${sftSteps} steps × ${config.sftBatch} demonstrations` });
      rmSync(sftDir, { recursive: true, force: true }); // an unfinished warm start is redone from scratch
      const engine = await EngineClient.spawn({ ...engineOptions, model: modelDir, reference: 'none' });
      try {
        sft = await trainSft({
          source: demonstrationSource(env),
          training: engine,
          tokenizer: new EngineChatTokenizer({ http: engine.routes }),
          sft: { steps: sftSteps, batch: config.sftBatch, lr: config.sftLr, seed: config.seed, weightDecay: config.weightDecay, maxGradNorm: config.maxGradNorm, microBatchSize: config.microBatchSize, schedule: 'cosine', warmupSteps: Math.min(10, sftSteps) },
          runDir: sftDir,
          modelName: basename(modelDir),
          config: { ...config },
          onStep: (metrics) => emit({ kind: 'sft-step', step: metrics.step, steps: sftSteps, metrics }),
        });
        rlModel = sft.checkpoint;
      } finally {
        await engine.stop();
      }
    }
  }

  emit({ kind: 'phase', phase: 'engine', message: `starting the engine on ${rlModel}` });
  const engine = await EngineClient.spawn({
    ...engineOptions,
    model: rlModel,
    reference: config.klBeta > 0 ? 'auto' : 'none',
    ...(config.lora ? { loraRank: config.loraRank, loraAlpha: config.loraAlpha } : {}),
  });
  options.onEngineStart?.({ pid: engine.pid, baseUrl: engine.url });
  if (config.sampler === 'vllm') {
    try {
      return await runWithVllm({ ...options, runDir, engine, rlModel, modelDir, emit, t0, ...(sft ? { sft } : {}) });
    } finally {
      await engine.stop();
    }
  }
  try {
    let sampler = makeSampler(engine, config);
    const training = engine;
    const policy: PolicyEngine = {
      get sampler() {
        return sampler;
      },
      training,
      // A fresh process from the model the run started on; the trainer then reloads its checkpoint.
      restart: async () => {
        await engine.restart();
        sampler = makeSampler(engine, config);
        options.onEngineStart?.({ pid: engine.pid, baseUrl: engine.url });
      },
    };
    emit({ kind: 'phase', phase: 'grpo', message: `GRPO: ${config.steps} steps × ${config.promptsPerStep} prompts × ${config.groupSize} samples` });
    const grpo = await trainGrpo({
      config,
      env,
      engine: policy,
      runDir,
      modelName: basename(modelDir),
      resume: options.resume ?? false,
      onEvent: emit,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const teacher =
      sftSteps > 0 && grpo.before
        ? await evaluateTeacher({ env, examples: (env.evalDataset ?? []).slice(0, config.evalExamples), groupSize: grpo.before.samplesPerExample, seed: config.seed + 1 })
        : undefined;
    emit({ kind: 'phase', phase: 'done', message: 'done' });
    return { runDir, modelDir: rlModel, ...(sft ? { sft } : {}), grpo, ...(teacher ? { teacher } : {}), seconds: (performance.now() - t0) / 1000 };
  } finally {
    await engine.stop();
  }
}

/**
 * GRPO with vLLM servers sampling and the engine only training: the fleet is started on the model
 * GRPO starts from (or the given `vllm.urls` are used), and after each due step the engine writes a
 * sync checkpoint (`exportWeights`, into `vllm.syncDir` or `<run>/sync`) that every server reloads.
 */
async function runWithVllm(job: {
  config: TrainConfig;
  env: Environment;
  runDir: string;
  resume?: boolean;
  signal?: AbortSignal;
  onVllmEvent?: (event: FleetEvent) => void;
  onFleet?: (fleet: VllmFleet) => void;
  engine: EngineClient;
  rlModel: string;
  modelDir: string;
  sft?: SftResult;
  emit: (event: JobEvent) => void;
  t0: number;
}): Promise<TrainJobResult> {
  const { config, engine, emit } = job;
  const v = config.vllm;
  const syncDir = resolve(v.syncDir || join(job.runDir, 'sync'));
  const threads = String(config.threads);
  emit({ kind: 'phase', phase: 'engine', message: v.urls.length ? `vLLM servers: ${v.urls.join(', ')}` : `starting ${v.servers} vLLM server(s) on ${job.rlModel} (logs: ${join(job.runDir, 'vllm')})` });
  const fleet = await VllmFleet.start({
    ...(v.urls.length ? { urls: v.urls } : { servers: v.servers }),
    server: {
      model: job.rlModel,
      ...(v.python ? { python: v.python } : {}),
      dtype: v.dtype,
      seed: config.seed,
      extraArgs: v.args,
      startupTimeoutMs: v.startupTimeoutS * 1000,
      env: { OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads },
    },
    logDir: join(job.runDir, 'vllm'),
    initialVersion: (await engine.info()).step,
    ...(job.onVllmEvent ? { onEvent: job.onVllmEvent } : {}),
  });
  job.onFleet?.(fleet);
  try {
    const policy = vllmPolicy({ config, engine, fleet, syncDir, onRestart: () => emit({ kind: 'phase', phase: 'engine', message: 'engine restarted' }) });
    emit({ kind: 'phase', phase: 'grpo', message: `GRPO (vLLM sampling): ${config.steps} steps × ${config.promptsPerStep} prompts × ${config.groupSize} samples` });
    const grpo = await trainGrpo({ config, env: job.env, engine: policy, runDir: job.runDir, modelName: basename(job.modelDir), resume: job.resume ?? false, onEvent: emit, ...(job.signal ? { signal: job.signal } : {}) });
    emit({ kind: 'phase', phase: 'done', message: 'done' });
    return { runDir: job.runDir, modelDir: job.rlModel, ...(job.sft ? { sft: job.sft } : {}), grpo, seconds: (performance.now() - job.t0) / 1000 };
  } finally {
    await fleet.stop();
  }
}

/**
 * The `PolicyEngine` of vLLM mode: the fleet samples (coalesced per group unless `coalesce` is off),
 * the engine trains, and a sync exports the engine's weights to `syncDir` and has every server
 * reload them.
 */
export function vllmPolicy(options: { config: TrainConfig; engine: EngineClient; fleet: VllmFleet; syncDir: string; onRestart?: () => void }): PolicyEngine {
  const { config, engine, fleet, syncDir } = options;
  const fleetSampler = fleet.sampler({ maxAttempts: config.samplerRetries + 4 });
  return {
    sampler: config.coalesce ? new CoalescingSampler({ sampler: fleetSampler }) : fleetSampler,
    training: engine,
    restart: async () => {
      await engine.restart();
      options.onRestart?.();
    },
    fleet: {
      get version() {
        return fleet.version;
      },
      sync: async (version) => {
        const exported = await engine.exportWeights({ path: syncDir });
        if (exported.step !== version) throw new EngineError(`the engine exported weights of version ${exported.step}, expected ${version}`, { status: 409 });
        const report = await fleet.sync({ path: exported.path, version });
        return { version, seconds: report.seconds + exported.seconds, failed: report.failed.length };
      },
    },
  };
}

/**
 * How the trainer spawns engines: torch and tokenizers held to `threads`, and no automatic
 * restart — the GRPO loop restarts a dead engine itself (`EngineClient.restart`) and reloads its
 * last checkpoint, so the KL reference stays the model the run started from.
 */
function engineSpawnOptions(config: TrainConfig, runDir: string): Omit<EngineSpawnOptions, 'model'> {
  const threads = String(config.threads);
  return {
    // the engine saves and loads only inside the run folder (and writes vLLM's sync checkpoint to vllm.syncDir when given)
    checkpointRoots: [runDir, ...(config.sampler === 'vllm' && config.vllm.syncDir ? [resolve(config.vllm.syncDir)] : [])],
    threads: config.threads,
    device: config.device,
    seed: config.seed,
    activationCheckpointing: config.activationCheckpointing,
    restart: false,
    startupTimeoutMs: 180_000,
    env: { OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads, TOKENIZERS_PARALLELISM: 'false' },
  };
}

function makeSampler(engine: EngineClient, config: TrainConfig): Sampler {
  const sampler = engine.sampler({ maxRetries: config.samplerRetries, seed: config.seed });
  return config.coalesce ? new CoalescingSampler({ sampler }) : sampler;
}

/**
 * Text for training a new model's tokenizer: the prompts of `examples` dataset rows and, when the
 * environment has a scripted solver, their demonstrations — the text the model will read and write.
 */
export function environmentCorpus(options: { env: Environment; examples: number; seed: number }): string {
  const { env } = options;
  const rng = new Rng(options.seed);
  const rows = env.dataset.slice(0, options.examples); // training rows only: nothing from the held-out split
  const lines: string[] = [];
  for (const example of rows) {
    const messages = [...example.prompt, ...(env.demonstrate ? env.demonstrate(example, rng) : [])];
    for (const m of messages) if (m.content) lines.push(m.content);
  }
  return lines.join('\n') + '\n';
}
