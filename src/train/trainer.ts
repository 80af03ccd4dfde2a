import { join } from 'node:path';
import type { Environment } from '../core/environment.js';
import { EngineError } from '../core/errors.js';
import type { LossSpec } from '../engine/wire.js';
import { RunWriter } from '../runs/run-writer.js';
import type { TrainConfig } from './config.js';
import type { EvalReport } from './evaluate.js';
import { nextBatch } from './grpo-sample.js';
import { buildBatch, checkpoint, checkpointDue, evaluate, modelCardInfo, optimise, record, syncSampler } from './grpo-stages.js';
import { writeModelCard } from './model-card.js';
import { canRecover, recover, restore } from './grpo-recover.js';
import { freshState, snapshotOf, type GrpoRun, type GrpoState, type PolicyEngine, type SampledBatch, type TrainEvent } from './grpo-state.js';
import { checkpointDirName, lastCheckpoint, removeTemporaryCheckpoints } from './trainer-state.js';

export type { PolicyEngine, TrainEvent } from './grpo-state.js';

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

/**
 * GRPO training. Each step runs the stages in order, on one explicit `GrpoState`:
 *
 *   sample (`sampleStep`: `promptsPerStep` prompts × `groupSize` rollouts, scored by the rubric)
 *   → batch (`buildBatch`: advantages A_i = (r_i − mean(r)) / scale within each group, packed sequences)
 *   → optimise (`optimise`: engine `forward_backward` + `optim_step`)
 *   → sync (`syncSampler`: only with a vLLM fleet — weights exported and reloaded by every server)
 *   → record (`record`: metrics line, rollouts, periodic held-out eval)
 *   → checkpoint (`checkpoint`, every `checkpointEvery` steps and after the last)
 *
 * and an unreachable engine is restarted and the run continues from its last checkpoint
 * (`recover`). With `async`, the next step's rollouts are sampled while the current step trains (at
 * most `maxStaleness` optimizer steps behind). `resume` continues from the last complete checkpoint;
 * steps whose loss or gradient is not finite are skipped and reported.
 */
export async function trainGrpo(options: TrainGrpoOptions): Promise<GrpoResult> {
  let run: RunWriter | undefined;
  try {
    return await trainGrpoInner(options, (r) => (run = r));
  } catch (error) {
    // A run-level failure: mark the run failed (its checkpoints and metrics stay) and rethrow.
    await (run as RunWriter | undefined)?.finish({ status: 'failed', error: error instanceof Error ? error.message : String(error) });
    throw error;
  }
}

async function trainGrpoInner(options: TrainGrpoOptions, opened: (run: RunWriter) => void): Promise<GrpoResult> {
  const { config, env } = options;
  if (env.dataset.length === 0) throw new EngineError(`environment '${env.name}' has an empty dataset`);
  const folder = await RunWriter.start({ dir: options.runDir, kind: 'train', env: env.name, model: options.modelName, config: { ...config }, resume: options.resume ?? false });
  opened(folder);
  const run: GrpoRun = {
    config,
    env,
    engine: options.engine,
    folder,
    emit: options.onEvent ?? (() => {}),
    evalExamples: (env.evalDataset ?? []).slice(0, config.evalExamples),
    sampling: { temperature: config.temperature, topP: config.topP, maxTokens: config.maxTokens },
    loss: lossSpec(config),
  };
  const evalBeforeAfter = (options.evalBeforeAfter ?? true) && run.evalExamples.length > 0;
  const state = freshState(run, (await run.engine.training.info()).step);
  if (options.resume) await resumeRun(run, state);
  await syncSampler(run, state, true); // a separate sampler fleet starts at the weights being trained

  let before: EvalReport | undefined;
  if (evalBeforeAfter && state.step === 0) before = await evaluate(run, state, 'before');
  while (state.step < config.steps) {
    if (options.signal?.aborted) {
      state.interrupted = true;
      break;
    }
    await trainStep(run, state);
  }
  if (state.pending) await state.pending.catch(() => undefined);
  if (state.interrupted && state.checkpointedStep !== state.step && state.step > 0) await checkpoint(run, state);
  const after = evalBeforeAfter && !state.interrupted ? await evaluate(run, state, 'after') : undefined;
  // The last checkpoint's card quotes the final eval, which ran after it was saved.
  if (after && state.checkpointedStep === state.step) await writeModelCard(join(run.folder.checkpointsDir, checkpointDirName(state.step)), modelCardInfo(run, state));
  await finishRun(run, state);
  return { runDir: options.runDir, steps: state.step, restarts: state.restarts, interrupted: state.interrupted, ...(before ? { before } : {}), ...(after ? { after } : {}) };
}

/** One step through the stages; an unreachable engine is recovered from, any other error ends the run. */
async function trainStep(run: GrpoRun, state: GrpoState): Promise<void> {
  const current = state.step + 1;
  let sampled: SampledBatch | undefined;
  try {
    sampled = await nextBatch(run, state, current);
    const batch = buildBatch(run, state, sampled, current);
    const optimised = await optimise(run, state, batch, current);
    state.step = current;
    state.lastSnapshot = sampled.snapshot;
    const synced = await syncSampler(run, state);
    await record(run, state, batch, synced ? { ...optimised, sync: synced } : optimised);
    if (checkpointDue(run, state.step)) await checkpoint(run, state);
  } catch (error) {
    if (!canRecover(run, state, error)) throw error;
    await recover(run, state, error, current, sampled);
  }
}

/** `resume`: back to the newest complete checkpoint (or a fresh start), with the clock continuing from it. */
async function resumeRun(run: GrpoRun, state: GrpoState): Promise<void> {
  removeTemporaryCheckpoints(run.folder.checkpointsDir); // left by a crash mid-save; never loaded
  const ref = lastCheckpoint(run.folder.checkpointsDir);
  await restore(run, state, ref);
  state.clockOrigin = performance.now() - (ref?.state.elapsed ?? 0) * 1000;
  state.lastSnapshot = snapshotOf(state.data, state.rng);
  if (ref) run.emit({ kind: 'resume', step: state.step, dir: ref.dir });
}

/** The run manifest's final status and summary (steps, rollouts, mean and best reward; the writer adds the last eval). */
async function finishRun(run: GrpoRun, state: GrpoState): Promise<void> {
  const metrics = await run.folder.readMetrics();
  const rewards = metrics.map((m) => m.reward).filter((r): r is number => typeof r === 'number');
  await run.folder.finish({
    status: state.interrupted ? 'interrupted' : 'completed',
    summary: {
      steps: state.step,
      rollouts: metrics.reduce((a, x) => a + (typeof x['rollouts'] === 'number' ? x['rollouts'] : 0), 0),
      ...(rewards.length ? { meanReward: rewards.reduce((a, b) => a + b, 0) / rewards.length, bestReward: Math.max(...rewards) } : {}),
    },
  });
}

/** The engine's loss options from the config (dr_grpo's normaliser: `drGrpoTokens`, default `maxTokens`). */
function lossSpec(config: TrainConfig): LossSpec {
  return {
    type: config.loss,
    epsLow: config.epsLow,
    epsHigh: config.epsHigh,
    klBeta: config.klBeta,
    isCorrection: config.isCorrection ? 'truncated' : 'none',
    isCap: config.isCap,
    ...(config.loss === 'dr_grpo' ? { maxTokens: config.drGrpoTokens ?? config.maxTokens } : {}),
  };
}
