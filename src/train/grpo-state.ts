import type { Environment, Example } from '../core/environment.js';
import { Rng } from '../core/rng.js';
import type { RolloutResult } from '../core/rollout-result.js';
import type { Sampler, SamplingArgs } from '../core/sampler.js';
import type { TrainingBackend } from '../engine/client.js';
import type { LossSpec } from '../engine/wire.js';
import type { TrainConfig } from './config.js';
import { DataOrder } from './data-order.js';
import type { EvalReport } from './evaluate.js';
import type { CardEval } from './model-card.js';
import type { StepMetrics } from '../core/run-manifest.js';
import type { RunWriter } from '../runs/run-writer.js';

/** The policy the trainer samples from and updates: usually one engine process serving both. */
export interface PolicyEngine {
  readonly sampler: Sampler;
  readonly training: TrainingBackend;
  /** Restarts a dead engine (same model, fresh process); the trainer then reloads its last checkpoint. */
  restart?(): Promise<void>;
  /** Samplers apart from the training engine (vLLM servers), which the trainer must keep at its weights. */
  readonly fleet?: SamplerFleet;
}

/** A sampler fleet the trainer syncs weights into (`engine/vllm/`); `sampler` samples from it. */
export interface SamplerFleet {
  /** The policy version the fleet samples with now. */
  readonly version: number;
  /** Brings every server to the trainer's current weights (policy `version`); resolves once they sample with them. */
  sync(version: number): Promise<{ version: number; seconds: number; failed: number }>;
}

/** Progress events for the CLI's bar and log. */
export type TrainEvent =
  | { kind: 'eval'; label: string; step: number; report: EvalReport }
  | { kind: 'step'; step: number; steps: number; metrics: StepMetrics }
  | { kind: 'checkpoint'; step: number; dir: string }
  | { kind: 'restart'; step: number; reason: string; resumedFrom: number }
  | { kind: 'resume'; step: number; dir: string };

/** What a checkpoint saves of the trainer's randomness: the data order's position and the rng stream. */
export interface Snapshot {
  epoch: number;
  position: number;
  rng: number[];
}

/** The scored rollout groups of one step, before they are turned into a training batch. */
export interface SampledBatch {
  step: number;
  groups: RolloutResult[][]; // [prompts][groupSize]
  samplingSeconds: number;
  scoringSeconds: number;
  /** Oldest policy version that produced any turn of the batch. */
  policyVersion: number;
  resampleRounds: number;
  /** Data order and rng right after this batch was drawn: a checkpoint after training on it resumes here. */
  snapshot: Snapshot;
}

/** What stays fixed during a GRPO run: its inputs, the run folder, and what is derived from the config once. */
export interface GrpoRun {
  config: TrainConfig;
  env: Environment;
  engine: PolicyEngine;
  /** The run folder. */
  folder: RunWriter;
  emit: (event: TrainEvent) => void;
  evalExamples: readonly Example[];
  sampling: SamplingArgs;
  loss: LossSpec;
}

/**
 * Everything the GRPO loop changes, in one place: the stages (`grpo-sample.ts`, `grpo-stages.ts`,
 * `grpo-recover.ts`) take it and update it; nothing else is mutable.
 */
export interface GrpoState {
  /** Optimizer steps completed, counting those before a resume (the next step is `step + 1`). */
  step: number;
  /** Where the walk over the training set stands. */
  data: DataOrder;
  /** The trainer's rng; each step's rollouts fork theirs from it (`rng.fork(step)`). */
  rng: Rng;
  /** The engine's optimizer step: the version of the weights now being sampled. */
  policyVersion: number;
  /** `performance.now()` at training time 0 (earlier runs' time included), for the metrics `time`. */
  clockOrigin: number;
  /** With `async`: the next step's batch, sampling while this step trains. */
  pending: Promise<SampledBatch> | undefined;
  /** A batch kept across an engine restart, trained on next. */
  carried: SampledBatch | undefined;
  /** Snapshot of the last batch trained on: what the next checkpoint saves. */
  lastSnapshot: Snapshot;
  /** Step of the last checkpoint written by this process (-1: none). */
  checkpointedStep: number;
  restarts: number;
  interrupted: boolean;
  /** Held-out evals run by this process, oldest first (checkpoints' model cards quote them). */
  evals: CardEval[];
}

/** The state of a fresh run (step 0, the config's seed) at the engine's current policy version. */
export function freshState(run: GrpoRun, policyVersion: number): GrpoState {
  const data = new DataOrder({ size: run.env.dataset.length, seed: run.config.seed });
  const rng = new Rng(run.config.seed);
  return {
    step: 0,
    data,
    rng,
    policyVersion,
    clockOrigin: performance.now(),
    pending: undefined,
    carried: undefined,
    lastSnapshot: snapshotOf(data, rng),
    checkpointedStep: -1,
    restarts: 0,
    interrupted: false,
    evals: [],
  };
}

/** Where `data` and `rng` stand now. */
export function snapshotOf(data: DataOrder, rng: Rng): Snapshot {
  return { epoch: data.epoch, position: data.position, rng: rng.state() };
}

/** Seconds of training time so far (continuing across resumes). */
export function elapsed(state: GrpoState): number {
  return (performance.now() - state.clockOrigin) / 1000;
}
