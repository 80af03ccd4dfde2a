import { EngineError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { DataOrder } from './data-order.js';
import type { GrpoRun, GrpoState, SampledBatch } from './grpo-state.js';
import { syncSampler } from './grpo-stages.js';
import { lastCheckpoint, type CheckpointRef } from './trainer-state.js';

/** Engine restarts a run may use before an unreachable engine fails it. */
export const MAX_RESTARTS = 3;

/**
 * Puts the engine and `state` back at a checkpoint (default: the newest complete one): weights and
 * optimizer reloaded, step, data order and rng as saved, the run folder's metrics and rollouts past
 * the step dropped. Without a checkpoint: back to step 0 and the config's seed. Returns the step.
 */
export async function restore(run: GrpoRun, state: GrpoState, ref: CheckpointRef | undefined = lastCheckpoint(run.folder.checkpointsDir)): Promise<number> {
  const { config, env, engine } = run;
  if (!ref) {
    state.step = 0;
    state.data = new DataOrder({ size: env.dataset.length, seed: config.seed });
    state.rng = new Rng(config.seed);
    await run.folder.rewindTo(0);
    state.policyVersion = (await engine.training.info()).step;
    return 0;
  }
  const loaded = await engine.training.load({ path: ref.dir });
  const saved = ref.state;
  state.step = saved.step;
  state.data = new DataOrder({ size: env.dataset.length, seed: config.seed, epoch: saved.epoch, position: saved.position });
  state.rng = Rng.fromState(saved.rng);
  state.policyVersion = loaded.step;
  await run.folder.rewindTo(saved.step);
  return saved.step;
}

/** Whether `error` means the engine process is gone (no HTTP status) and a restart is allowed. */
export function canRecover(run: GrpoRun, state: GrpoState, error: unknown): error is EngineError {
  return error instanceof EngineError && error.status === undefined && run.engine.restart !== undefined && state.restarts < MAX_RESTARTS;
}

/**
 * Stage 6, recover (after an unreachable engine failed step `failedStep`): restarts the engine and
 * continues from the last complete checkpoint; the batch sampled ahead is dropped. The rollouts of
 * the failed step were sampled by the policy just reloaded when that checkpoint is the step before:
 * they are carried over and trained on (unless one of them failed), and the data order and rng go
 * to where they stood after drawing them.
 */
export async function recover(run: GrpoRun, state: GrpoState, error: EngineError, failedStep: number, batch: SampledBatch | undefined): Promise<void> {
  const { config, env } = run;
  state.restarts++;
  state.pending = undefined;
  await run.engine.restart!();
  const resumedFrom = await restore(run, state);
  if (batch && batch.step === failedStep && resumedFrom === failedStep - 1 && batch.groups.flat().every((r) => r.stopReason !== 'error')) {
    state.carried = batch;
    state.data = new DataOrder({ size: env.dataset.length, seed: config.seed, epoch: batch.snapshot.epoch, position: batch.snapshot.position });
    state.rng = Rng.fromState(batch.snapshot.rng);
  }
  await syncSampler(run, state, true); // a sampler fleet goes back to the restored weights too
  run.emit({ kind: 'restart', step: failedStep, reason: error.message, resumedFrom });
}
