import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { safeParseJson } from '../core/parse.js';
import { runLayout, TrainEvalSummary } from '../runs/run-layout.js';
import type { ForwardBackwardResult, OptimStepRequest, OptimStepResult } from '../engine/wire.js';
import { buildTrainingBatch, type TrainingBatch } from './batch.js';
import { evaluatePolicy, type EvalReport } from './evaluate.js';
import { elapsed, type GrpoRun, type GrpoState, type SampledBatch } from './grpo-state.js';
import { effectiveSftSteps } from './config.js';
import { writeModelCard, type CardEval, type ModelCardInfo } from './model-card.js';
import { learningRate } from './schedule.js';
import { stepMetrics, type StepRecord } from './step-metrics.js';
import { checkpointDirName, pruneCheckpoints, writeTrainerState, type TrainerState } from './trainer-state.js';

/** A sampled batch turned into what the engine trains on, with the figures fixed before training. */
export interface BuiltBatch {
  sampled: SampledBatch;
  built: TrainingBatch;
  /** Learning rate of this step (the schedule at `step`). */
  lr: number;
  /** Optimizer steps between the policy that sampled the batch and the one about to be trained. */
  staleness: number;
}

/** What the optimiser stage did: the engine's answers, or why no step was applied. */
export interface Optimised {
  forward?: ForwardBackwardResult;
  optim?: OptimStepResult;
  skipReason?: StepRecord['skipReason'];
  trainingSeconds: number;
  /** The weight sync to a sampler fleet after the step, when one was due. */
  sync?: { seconds: number; version: number; failed: number };
}

/**
 * Stage 2, batch: errored rollouts out, the overlong policy, zero-variance groups, advantages
 * (`buildTrainingBatch`), and the step's learning rate. Pure.
 */
export function buildBatch(run: GrpoRun, state: GrpoState, sampled: SampledBatch, step: number): BuiltBatch {
  const { config } = run;
  const built = buildTrainingBatch({ groups: sampled.groups, advantageScale: config.advantageScale, rloo: config.rloo, zeroVariance: config.zeroVariance, overlong: config.overlong, overlongPenalty: config.overlongPenalty });
  const lr = learningRate({ step, lr: config.lr, schedule: config.schedule, warmupSteps: config.warmupSteps, totalSteps: config.steps });
  return { sampled, built, lr, staleness: Math.max(0, state.policyVersion - sampled.policyVersion) };
}

/**
 * Stage 3, optimise: one engine `forward_backward` with the optimizer step riding along (or a
 * separate `optim_step` when the backend does not fuse them). A non-finite loss or gradient skips
 * the step. Advances `state.policyVersion` when a step was applied.
 */
export async function optimise(run: GrpoRun, state: GrpoState, batch: BuiltBatch, step: number): Promise<Optimised> {
  const { config, engine } = run;
  const { built, lr } = batch;
  const t0 = performance.now();
  const done = (out: Omit<Optimised, 'trainingSeconds'>): Optimised => ({ ...out, trainingSeconds: (performance.now() - t0) / 1000 });
  if (built.sequences.length === 0) {
    // Every rollout failing usually means the engine is gone: probe it, so a dead engine surfaces as
    // an EngineError (and a restart) instead of a run of empty steps.
    const rollouts = built.groups.flat();
    if (built.stats.erroredRollouts === rollouts.length) {
      await engine.training.info();
      // A configuration mistake fails every rollout the same way: stop instead of training on nothing.
      const configError = rollouts.every((r) => r.error?.code === 'config_error') ? rollouts[0]?.error : undefined;
      if (configError) throw new ConfigError(`every rollout of step ${step} failed: ${configError.message}`);
    }
    return done({ skipReason: 'no_sequences' });
  }
  const optimStep: OptimStepRequest = { lr, weightDecay: config.weightDecay, gradClip: config.maxGradNorm };
  const forward = await engine.training.forwardBackward({ sequences: built.sequences, loss: run.loss, optimStep, microBatchSize: config.microBatchSize });
  if (forward.nonfinite || forward.loss === null || !Number.isFinite(forward.loss)) return done({ forward, skipReason: 'nonfinite_loss' });
  const optim = forward.optimStep ?? (await engine.training.optimStep(optimStep));
  if (optim.skipped) return done({ forward, optim, skipReason: 'nonfinite_grad' });
  state.policyVersion = optim.step;
  return done({ forward, optim });
}

/**
 * Stage 3b, sync (only with a separate sampler fleet, `sampler = vllm`): brings the fleet to the
 * trainer's weights when it is `vllm.syncEvery` versions behind, when the next batch would otherwise
 * be more than `maxStaleness` versions old when trained (one more with `async`, whose next batch
 * trains a step later), or with `force` whenever it differs (after a resume or a restore). Returns
 * the sync's figures, or undefined when none was due.
 */
export async function syncSampler(run: GrpoRun, state: GrpoState, force = false): Promise<{ seconds: number; version: number; failed: number } | undefined> {
  const fleet = run.engine.fleet;
  if (!fleet) return undefined;
  const { config } = run;
  const behind = state.policyVersion - fleet.version;
  if (behind === 0) return undefined;
  const due = force || behind < 0 || behind >= config.vllm.syncEvery || behind + (config.async ? 1 : 0) > config.maxStaleness;
  if (!due) return undefined;
  return fleet.sync(state.policyVersion);
}

/**
 * Stage 4, record: the step's `metrics.jsonl` line (with a held-out eval every `evalEvery` steps),
 * its rollouts (`logRollouts`), and the `step` event.
 */
export async function record(run: GrpoRun, state: GrpoState, batch: BuiltBatch, optimised: Optimised): Promise<void> {
  const { config } = run;
  const { sampled, built } = batch;
  const { trainingSeconds, forward, optim, skipReason } = optimised;
  const step = state.step;
  const metrics = stepMetrics({
    step,
    time: elapsed(state),
    lr: batch.lr,
    results: built.groups.flat(),
    batch: built.stats,
    ...(forward ? { forward } : {}),
    ...(optim ? { optim } : {}),
    samplingSeconds: sampled.samplingSeconds,
    scoringSeconds: sampled.scoringSeconds,
    trainingSeconds,
    staleness: batch.staleness,
    resampleRounds: sampled.resampleRounds,
    ...(skipReason ? { skipReason } : {}),
  });
  if (run.engine.fleet) {
    metrics.samplerVersion = run.engine.fleet.version;
    metrics.syncSeconds = optimised.sync ? round6(optimised.sync.seconds) : 0;
    metrics.syncFailedServers = optimised.sync?.failed ?? 0;
  }
  if (config.evalEvery !== undefined && step % config.evalEvery === 0 && step < config.steps && run.evalExamples.length > 0) {
    metrics.evalReward = (await evaluate(run, state, `step-${step}`)).reward;
  }
  if (config.logRollouts !== 0) {
    const all = built.groups.flat();
    await run.folder.writeRollouts(step, config.logRollouts === undefined ? all : all.slice(0, config.logRollouts));
  }
  await run.folder.appendMetrics(metrics);
  run.emit({ kind: 'step', step, steps: config.steps, metrics });
}

/** Whether a checkpoint is due after step `step`: every `checkpointEvery` steps, and after the last. */
export function checkpointDue(run: GrpoRun, step: number): boolean {
  return (run.config.checkpointEvery !== null && step % run.config.checkpointEvery === 0) || step === run.config.steps;
}

/**
 * Stage 5, checkpoint: the engine saves weights and optimizer, then keiko's trainer state (step,
 * data position and rng of the last batch trained on, elapsed time) is written last, so a folder
 * without it is incomplete; old checkpoints beyond `keepCheckpoints` are pruned.
 */
export async function checkpoint(run: GrpoRun, state: GrpoState): Promise<void> {
  const { config } = run;
  const { step, lastSnapshot: snapshot } = state;
  const dir = join(run.folder.checkpointsDir, checkpointDirName(step));
  await run.engine.training.save({ path: dir, optimizer: true });
  await writeModelCard(dir, modelCardInfo(run, state));
  const saved: TrainerState = { schemaVersion: 1, kind: 'grpo', step, epoch: snapshot.epoch, position: snapshot.position, rng: snapshot.rng, elapsed: elapsed(state), policyVersion: state.policyVersion, savedAt: new Date().toISOString(), config: { ...config } };
  await writeTrainerState(dir, saved);
  pruneCheckpoints(run.folder.checkpointsDir, config.keepCheckpoints);
  await run.folder.update({ checkpoints: [...run.folder.manifest.checkpoints.filter((c) => c.step !== step), { step, path: join('checkpoints', checkpointDirName(step)) }] });
  state.checkpointedStep = step;
  run.emit({ kind: 'checkpoint', step, dir });
}

/** A held-out eval of the current policy (fixed seed, `evalGroupSize` per example unless greedy), written to `evals/<label>.json`. */
export async function evaluate(run: GrpoRun, state: GrpoState, label: string): Promise<EvalReport> {
  const { config, env } = run;
  const report = await evaluatePolicy({
    env,
    sampler: run.engine.sampler,
    examples: run.evalExamples,
    label,
    temperature: config.evalTemperature,
    topP: config.topP,
    groupSize: config.evalTemperature === 0 ? 1 : config.evalGroupSize,
    maxTokens: config.maxTokens,
    maxTurns: config.maxTurns,
    concurrency: config.concurrency,
    seed: config.seed + 1,
  });
  await run.folder.writeEval(label, { ...report, step: state.step, policyVersion: state.policyVersion });
  if (report.reward !== null && report.reward !== undefined) {
    state.evals.push({ label, step: state.step, reward: report.reward, examples: report.examples, samplesPerExample: report.samplesPerExample, temperature: report.temperature });
  }
  run.emit({ kind: 'eval', label, step: state.step, report });
  return report;
}

/**
 * What the model card of the checkpoint at `state.step` says: base model, environment, key
 * settings, the held-out reward before training (read back from `evals/before.json` after a
 * resume) and the latest one.
 */
export function modelCardInfo(run: GrpoRun, state: GrpoState): ModelCardInfo {
  const { config } = run;
  const before = state.evals.find((e) => e.label === 'before') ?? readEvalSummary(run, 'before');
  const latest = state.evals.at(-1);
  return {
    kind: 'grpo',
    step: state.step,
    steps: config.steps,
    baseModel: config.model || `keiko's tiny created model (${config.createLayers} layers, hidden ${config.createHidden}, vocab ${config.createVocab})${effectiveSftSteps(config) > 0 ? `, SFT-warm-started for ${effectiveSftSteps(config)} steps on the environment's demonstrations` : ''}`,
    environment: `${run.env.name}${Object.keys(config.envArgs).length ? ` ${JSON.stringify(config.envArgs)}` : ''}`,
    settings: {
      loss: config.loss,
      lr: config.lr,
      schedule: config.schedule,
      promptsPerStep: config.promptsPerStep,
      groupSize: config.groupSize,
      temperature: config.temperature,
      maxTokens: config.maxTokens,
      advantageScale: config.advantageScale,
      zeroVariance: config.zeroVariance,
      klBeta: config.klBeta,
      async: config.async,
      lora: config.lora ? { rank: config.loraRank, alpha: config.loraAlpha } : false,
      seed: config.seed,
      run: basename(run.folder.dir),
    },
    ...(before ? { before } : {}),
    ...(latest ? { latest } : {}),
    lora: config.lora,
  };
}

function readEvalSummary(run: GrpoRun, label: string): CardEval | undefined {
  const file = join(run.folder.dir, runLayout.evalSummary(label));
  if (!existsSync(file)) return undefined;
  const parsed = safeParseJson(readFileSync(file, 'utf8'), TrainEvalSummary);
  if (!parsed.success || parsed.data.reward === null) return undefined;
  const { step, reward, examples, samplesPerExample, temperature } = parsed.data;
  return { label, step, reward, examples, samplesPerExample, temperature };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
