import { join } from 'node:path';
import type { Environment, Example } from '../core/environment.js';
import { ConfigError, EngineError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { RolloutResult } from '../core/rollout-result.js';
import type { StepMetrics } from '../core/run-manifest.js';
import type { Sampler } from '../core/sampler.js';
import { buildTrainingBatch } from './batch.js';
import type { TrainConfig } from './config.js';
import { DataOrder } from './data-order.js';
import { evaluatePolicy, type EvalReport } from './evaluate.js';
import { isZeroVariance } from './filtering.js';
import { sampleGroups } from './sample-groups.js';
import { learningRate } from './schedule.js';
import { stepMetrics, type StepRecord } from './step-metrics.js';
import { TrainRun } from './train-run.js';
import { checkpointDirName, lastCheckpoint, pruneCheckpoints, writeTrainerState, type TrainerState } from './trainer-state.js';
import type { ForwardBackwardResult, LossSpec, OptimStepResult, TrainingBackend } from './training-backend.js';

/** The policy the trainer samples from and updates: usually one engine process serving both. */
export interface PolicyEngine {
  readonly sampler: Sampler;
  readonly training: TrainingBackend;
  /** Restarts a dead engine (same model, fresh process); the trainer then reloads its last checkpoint. */
  restart?(): Promise<void>;
}

/** Progress events for the CLI's bar and log. */
export type TrainEvent =
  | { kind: 'eval'; label: string; step: number; report: EvalReport }
  | { kind: 'step'; step: number; steps: number; metrics: StepMetrics }
  | { kind: 'checkpoint'; step: number; dir: string }
  | { kind: 'restart'; step: number; reason: string; resumedFrom: number }
  | { kind: 'resume'; step: number; dir: string };

/** What a finished (or interrupted) GRPO run returns. */
export interface GrpoResult {
  runDir: string;
  /** Steps completed, counting those before a resume. */
  steps: number;
  before?: EvalReport;
  after?: EvalReport;
  restarts: number;
  interrupted: boolean;
}

interface Snapshot {
  epoch: number;
  position: number;
  rng: number[];
}

interface SampledBatch {
  step: number;
  groups: RolloutResult[][];
  samplingSeconds: number;
  scoringSeconds: number;
  /** Oldest policy version that produced any turn of the batch. */
  policyVersion: number;
  resampleRounds: number;
  snapshot: Snapshot;
}

const MAX_RESTARTS = 3;

/**
 * GRPO training: sample prompts → `groupSize` rollouts each → rubric rewards → advantages →
 * packed sequences → engine `forward_backward` + `optim_step` → metrics → periodic held-out eval →
 * checkpoints. With `async`, the next step's rollouts are generated while the current step trains
 * (at most `maxStaleness` optimizer steps behind). Resumes from the last complete checkpoint when
 * `resume` is set; restarts a dead engine and continues from its last checkpoint; skips (and
 * reports) steps whose loss or gradient is not finite.
 */
export async function trainGrpo(options: TrainGrpoOptions): Promise<GrpoResult> {
  let run: TrainRun | undefined;
  try {
    return await trainGrpoInner(options, (r) => (run = r));
  } catch (error) {
    // A run-level failure: mark the run failed (its checkpoints and metrics stay) and rethrow.
    (run as TrainRun | undefined)?.update((m) => {
      m.status = 'failed';
      m.endedAt = new Date().toISOString();
      m.error = error instanceof Error ? error.message : String(error);
    });
    throw error;
  }
}

/** Options of `trainGrpo`. */
export interface TrainGrpoOptions {
  config: TrainConfig;
  env: Environment;
  engine: PolicyEngine;
  runDir: string;
  modelName: string;
  resume?: boolean;
  onEvent?: (event: TrainEvent) => void;
  signal?: AbortSignal;
  /** Run the before/after held-out evals (default true). */
  evalBeforeAfter?: boolean;
}

async function trainGrpoInner(options: TrainGrpoOptions, opened: (run: TrainRun) => void): Promise<GrpoResult> {
  const { config, env, engine } = options;
  const emit = options.onEvent ?? (() => {});
  if (env.dataset.length === 0) throw new EngineError(`environment '${env.name}' has an empty dataset`);
  const run = TrainRun.open({ dir: options.runDir, kind: 'train', env: env.name, model: options.modelName, config: { ...config }, resume: options.resume ?? false });
  opened(run);
  const evalExamples = (env.evalDataset ?? []).slice(0, config.evalExamples);
  const evalBeforeAfter = (options.evalBeforeAfter ?? true) && evalExamples.length > 0;

  let step = 0;
  let elapsedBefore = 0;
  let data = new DataOrder({ size: env.dataset.length, seed: config.seed });
  let rng = new Rng(config.seed);
  let policyVersion = (await engine.training.info()).step;

  const restore = async (ref = lastCheckpoint(run.checkpointsDir)): Promise<number> => {
    if (!ref) {
      step = 0;
      elapsedBefore = 0;
      data = new DataOrder({ size: env.dataset.length, seed: config.seed });
      rng = new Rng(config.seed);
      run.rewindTo(0);
      policyVersion = (await engine.training.info()).step;
      return 0;
    }
    const loaded = await engine.training.load({ path: ref.dir });
    const s = ref.state;
    step = s.step;
    elapsedBefore = s.elapsed;
    data = new DataOrder({ size: env.dataset.length, seed: config.seed, epoch: s.epoch, position: s.position });
    rng = Rng.fromState(s.rng);
    policyVersion = loaded.step;
    run.rewindTo(step);
    return step;
  };

  if (options.resume) {
    const ref = lastCheckpoint(run.checkpointsDir);
    await restore(ref);
    if (ref) emit({ kind: 'resume', step, dir: ref.dir });
  }

  const t0 = performance.now() - elapsedBefore * 1000;
  const now = () => (performance.now() - t0) / 1000;
  const result: GrpoResult = { runDir: options.runDir, steps: step, restarts: 0, interrupted: false };

  const evaluate = async (label: string): Promise<EvalReport> => {
    const report = await evaluatePolicy({
      env,
      sampler: engine.sampler,
      examples: evalExamples,
      label,
      temperature: config.evalTemperature,
      groupSize: config.evalTemperature === 0 ? 1 : config.evalGroupSize,
      maxTokens: config.maxTokens,
      maxTurns: config.maxTurns,
      concurrency: config.concurrency,
      seed: config.seed + 1,
    });
    run.writeEval(label, { ...report, step, policyVersion });
    emit({ kind: 'eval', label, step, report });
    return report;
  };

  if (evalBeforeAfter && step === 0) {
    result.before = await evaluate('before');
    run.update((m) => (m.summary = { ...m.summary, evalReward: result.before!.reward }));
  }

  const sampling = { temperature: config.temperature, topP: config.topP, maxTokens: config.maxTokens };
  const sampleBatch = async (forStep: number): Promise<SampledBatch> => {
    const versionAtStart = policyVersion;
    const batchRng = rng.fork(forStep);
    const take = (n: number): Example[] => data.take(n).map((i) => env.dataset[i]!);
    const first = await sampleGroups({ env, sampler: engine.sampler, examples: take(config.promptsPerStep), groupSize: config.groupSize, sampling, rng: batchRng, concurrency: config.concurrency, maxTurns: config.maxTurns });
    const groups = first.groups;
    let { samplingSeconds, scoringSeconds } = first;
    let rounds = 0;
    if (config.zeroVariance === 'resample') {
      const useful = () => groups.filter((g) => !isZeroVariance(g.filter((r) => r.stopReason !== 'error').map((r) => r.reward))).length;
      while (useful() < config.promptsPerStep && rounds < config.maxResampleRounds) {
        rounds++;
        const more = await sampleGroups({ env, sampler: engine.sampler, examples: take(config.promptsPerStep - useful()), groupSize: config.groupSize, sampling, rng: batchRng, concurrency: config.concurrency, maxTurns: config.maxTurns });
        groups.push(...more.groups);
        samplingSeconds += more.samplingSeconds;
        scoringSeconds += more.scoringSeconds;
      }
    }
    const versions = groups.flat().flatMap((r) => r.turns.map((t) => t.policyVersion).filter((v): v is number => v !== undefined));
    return {
      step: forStep,
      groups,
      samplingSeconds,
      scoringSeconds,
      policyVersion: versions.length ? Math.min(...versions) : versionAtStart,
      resampleRounds: rounds,
      snapshot: { epoch: data.epoch, position: data.position, rng: rng.state() },
    };
  };

  const loss: LossSpec = {
    type: config.loss,
    eps_low: config.epsLow,
    eps_high: config.epsHigh,
    kl_beta: config.klBeta,
    is_correction: config.isCorrection ? 'truncated' : 'none',
    is_cap: config.isCap,
  };

  const checkpoint = async (snapshot: Snapshot): Promise<void> => {
    const dir = join(run.checkpointsDir, checkpointDirName(step));
    await engine.training.save({ path: dir, optimizer: true });
    const state: TrainerState = { schemaVersion: 1, kind: 'grpo', step, epoch: snapshot.epoch, position: snapshot.position, rng: snapshot.rng, elapsed: now(), policyVersion, savedAt: new Date().toISOString(), config: { ...config } };
    writeTrainerState(dir, state);
    pruneCheckpoints(run.checkpointsDir, config.keepCheckpoints);
    run.update((m) => {
      m.checkpoints = [...m.checkpoints.filter((c) => c.step !== step), { step, path: join('checkpoints', checkpointDirName(step)) }];
    });
    emit({ kind: 'checkpoint', step, dir });
  };

  let pending: Promise<SampledBatch> | undefined;
  let carried: SampledBatch | undefined;
  let lastSnapshot: Snapshot = { epoch: data.epoch, position: data.position, rng: rng.state() };
  let checkpointedStep = -1;

  while (step < config.steps) {
    if (options.signal?.aborted) {
      result.interrupted = true;
      break;
    }
    const current = step + 1;
    let batch: SampledBatch | undefined;
    try {
      if (carried) {
        batch = carried;
        carried = undefined;
      } else if (pending) {
        batch = await pending;
        pending = undefined;
        if (policyVersion - batch.policyVersion > config.maxStaleness) batch = await sampleBatch(current);
      } else {
        batch = await sampleBatch(current);
      }
      if (config.async && current < config.steps) {
        pending = sampleBatch(current + 1);
        pending.catch(() => {}); // awaited next iteration; avoid an unhandled rejection meanwhile
      }
      const staleness = Math.max(0, policyVersion - batch.policyVersion);
      const built = buildTrainingBatch({ groups: batch.groups, advantageScale: config.advantageScale, rloo: config.rloo, zeroVariance: config.zeroVariance, overlong: config.overlong, overlongPenalty: config.overlongPenalty });
      const lr = learningRate({ step: current, lr: config.lr, schedule: config.schedule, warmupSteps: config.warmupSteps, totalSteps: config.steps });
      const tTrain = performance.now();
      let forward: ForwardBackwardResult | undefined;
      let optim: OptimStepResult | undefined;
      let skipReason: StepRecord['skipReason'];
      if (built.sequences.length === 0) {
        // Every rollout failing usually means the engine is gone: probe it, so a dead engine
        // surfaces as an EngineError (and a restart) instead of a run of empty steps.
        const rollouts = built.groups.flat();
        if (built.stats.erroredRollouts === rollouts.length) {
          await engine.training.info();
          // A configuration mistake fails every rollout the same way: stop instead of training on nothing.
          const configError = rollouts.every((r) => r.error?.code === 'config_error') ? rollouts[0]?.error : undefined;
          if (configError) throw new ConfigError(`every rollout of step ${current} failed: ${configError.message}`);
        }
        skipReason = 'no_sequences';
      } else {
        const optimStep = { lr, weightDecay: config.weightDecay, gradClip: config.maxGradNorm };
        // The step rides along with forward/backward (one round trip) when the backend supports it.
        forward = await engine.training.forwardBackward({ sequences: built.sequences, loss, optimStep, ...(config.microBatchSize > 0 ? { microBatchSize: config.microBatchSize } : {}) });
        if (forward.nonfinite || forward.loss === null || !Number.isFinite(forward.loss)) {
          skipReason = 'nonfinite_loss';
        } else {
          optim = forward.optim_step ?? (await engine.training.optimStep(optimStep));
          if (optim.skipped) skipReason = 'nonfinite_grad';
          else policyVersion = optim.step;
        }
      }
      const trainingSeconds = (performance.now() - tTrain) / 1000;
      step = current;
      lastSnapshot = batch.snapshot;
      const metrics = stepMetrics({
        step,
        time: now(),
        lr,
        results: built.groups.flat(),
        batch: built.stats,
        ...(forward ? { forward } : {}),
        ...(optim ? { optim } : {}),
        samplingSeconds: batch.samplingSeconds,
        scoringSeconds: batch.scoringSeconds,
        trainingSeconds,
        staleness,
        resampleRounds: batch.resampleRounds,
        ...(skipReason ? { skipReason } : {}),
      });
      if (config.evalEvery > 0 && step % config.evalEvery === 0 && step < config.steps && evalExamples.length > 0) {
        metrics.evalReward = (await evaluate(`step-${step}`)).reward;
      }
      if (config.logRollouts !== 0) {
        const all = built.groups.flat();
        run.writeRollouts(step, config.logRollouts === undefined ? all : all.slice(0, config.logRollouts));
      }
      run.appendMetrics(metrics);
      emit({ kind: 'step', step, steps: config.steps, metrics });
      if ((config.checkpointEvery > 0 && step % config.checkpointEvery === 0) || step === config.steps) {
        await checkpoint(lastSnapshot);
        checkpointedStep = step;
      }
    } catch (error) {
      if (!(error instanceof EngineError) || error.status !== undefined || !engine.restart || result.restarts >= MAX_RESTARTS) throw error;
      // The engine is unreachable: restart it and continue from the last complete checkpoint.
      result.restarts++;
      pending = undefined;
      await engine.restart();
      const failedStep = current;
      const resumedFrom = await restore();
      // Rollouts of the step that was training when the engine died were sampled by the policy we
      // just reloaded: keep them rather than sampling again.
      if (batch && batch.step === failedStep && resumedFrom === failedStep - 1 && batch.groups.flat().every((r) => r.stopReason !== 'error')) {
        carried = batch;
        data = new DataOrder({ size: env.dataset.length, seed: config.seed, epoch: batch.snapshot.epoch, position: batch.snapshot.position });
        rng = Rng.fromState(batch.snapshot.rng);
      }
      emit({ kind: 'restart', step: failedStep, reason: error.message, resumedFrom });
    }
  }
  if (pending) await pending.catch(() => undefined);
  result.steps = step;
  if (result.interrupted && checkpointedStep !== step && step > 0) await checkpoint(lastSnapshot);

  if (evalBeforeAfter && !result.interrupted) result.after = await evaluate('after');
  const metrics = run.readMetrics();
  const rewards = metrics.map((m) => m.reward).filter((r): r is number => typeof r === 'number');
  run.update((m) => {
    m.status = result.interrupted ? 'interrupted' : 'completed';
    m.endedAt = new Date().toISOString();
    m.summary = {
      ...m.summary,
      steps: step,
      rollouts: metrics.reduce((a, x) => a + (typeof x['rollouts'] === 'number' ? x['rollouts'] : 0), 0),
      ...(rewards.length ? { meanReward: rewards.reduce((a, b) => a + b, 0) / rewards.length, bestReward: Math.max(...rewards) } : {}),
      ...(result.after ? { evalReward: result.after.reward } : {}),
    };
  });
  return result;
}
