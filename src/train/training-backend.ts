import type { EngineClient } from '../samplers/engine-client.js';
import type { LossSpec as ClientLossSpec } from '../samplers/engine-api.js';

/** The loss spec sent with `forward_backward`, as in engine/API.md. */
export interface LossSpec {
  type: 'sft' | 'grpo' | 'dr_grpo' | 'dapo' | 'bnpo' | 'gspo';
  eps_low?: number;
  eps_high?: number;
  kl_beta?: number;
  is_correction?: 'none' | 'truncated';
  is_cap?: number;
  max_tokens?: number | null;
}

/** One training sequence on the wire (snake_case, as the engine expects). */
export interface WireSequence {
  input_ids: number[]; // [T]
  loss_mask: number[]; // [T]
  advantages?: number | number[];
  sampler_logprobs?: number[]; // [T]
}

/** Result of `forward_backward`, with the engine's field names. */
export interface ForwardBackwardResult {
  loss: number | null;
  kl: number | null;
  clip_fraction: number | null;
  entropy: number | null;
  tokens: number;
  sequences: number;
  seconds: number;
  tokens_per_s: number | null;
  nonfinite: boolean;
  /** The optimizer step taken in the same call when one was asked for (null: the loss was non-finite, nothing applied). */
  optim_step?: OptimStepResult | null;
}

/** An optimizer step, as the trainer asks for it. */
export interface OptimStepRequest {
  lr: number;
  weightDecay?: number;
  gradClip?: number;
}

/** Result of `optim_step`, with the engine's field names. */
export interface OptimStepResult {
  step: number;
  grad_norm: number | null;
  skipped: boolean;
}

/** The part of `GET /info` the trainer reads. */
export interface EngineInfo {
  model: string;
  step: number;
  vocab_size: number;
  max_context: number;
  parameters?: number;
  device?: string;
}

/**
 * The training half of the engine, as the trainer uses it. `EngineTrainingClient` implements it
 * on an `EngineClient`; tests may pass another implementation.
 */
export interface TrainingBackend {
  info(): Promise<EngineInfo>;
  /**
   * Accumulates gradients. With `optimStep`, a backend may also take that step in the same call and
   * report it as `optim_step`; one that does not leaves `optim_step` undefined and the caller steps.
   */
  forwardBackward(request: { sequences: WireSequence[]; loss: LossSpec; microBatchSize?: number; scale?: number; optimStep?: OptimStepRequest }): Promise<ForwardBackwardResult>;
  optimStep(request: OptimStepRequest): Promise<OptimStepResult>;
  save(request: { path: string; optimizer?: boolean; mergedLora?: boolean }): Promise<{ path: string; step: number }>;
  load(request: { path: string }): Promise<{ path: string; step: number }>;
}

/**
 * The trainer's `TrainingBackend` on a real engine: a thin adapter over `EngineClient` (which owns
 * the process, health checks and HTTP calls) that keeps the trainer's wire-shaped requests and
 * results. Errors are `EngineClient`'s `EngineError`s: no `status` when the engine is unreachable.
 */
export class EngineTrainingClient implements TrainingBackend {
  readonly engine: EngineClient;

  constructor(options: { engine: EngineClient }) {
    this.engine = options.engine;
  }

  /** The engine's base URL (no /v1). */
  get baseUrl(): string {
    return this.engine.url;
  }

  info(): Promise<EngineInfo> {
    return this.engine.info();
  }

  async forwardBackward(request: { sequences: WireSequence[]; loss: LossSpec; microBatchSize?: number; scale?: number; optimStep?: OptimStepRequest }): Promise<ForwardBackwardResult> {
    const l = request.loss;
    const loss: ClientLossSpec = { type: l.type };
    if (l.eps_low !== undefined) loss.epsLow = l.eps_low;
    if (l.eps_high !== undefined) loss.epsHigh = l.eps_high;
    if (l.kl_beta !== undefined) loss.klBeta = l.kl_beta;
    if (l.is_correction !== undefined) loss.isCorrection = l.is_correction;
    if (l.is_cap !== undefined) loss.isCap = l.is_cap;
    if (l.max_tokens !== undefined && l.max_tokens !== null) loss.maxTokens = l.max_tokens;
    const r = await this.engine.forwardBackward({
      sequences: request.sequences.map((s) => ({
        inputIds: s.input_ids,
        lossMask: s.loss_mask as (0 | 1)[],
        ...(s.advantages !== undefined ? { advantages: s.advantages } : {}),
        ...(s.sampler_logprobs ? { samplerLogprobs: s.sampler_logprobs } : {}),
      })),
      loss,
      ...(request.microBatchSize !== undefined ? { microBatchSize: request.microBatchSize } : {}),
      ...(request.scale !== undefined ? { scale: request.scale } : {}),
      ...(request.optimStep ? { optimStep: engineOptim(request.optimStep) } : {}),
    });
    const out: ForwardBackwardResult = { loss: r.loss, kl: r.kl, clip_fraction: r.clipFraction, entropy: r.entropy, tokens: r.tokens, sequences: r.sequences, seconds: r.seconds, tokens_per_s: r.tokensPerS, nonfinite: r.nonfinite };
    if (r.optimStep !== undefined) out.optim_step = r.optimStep && optimResult(r.optimStep);
    return out;
  }

  async optimStep(request: OptimStepRequest): Promise<OptimStepResult> {
    return optimResult(await this.engine.optimStep(engineOptim(request)));
  }

  save(request: { path: string; optimizer?: boolean; mergedLora?: boolean }): Promise<{ path: string; step: number }> {
    return this.engine.save({ path: request.path, optimizer: request.optimizer ?? true, mergedLora: request.mergedLora ?? false });
  }

  load(request: { path: string }): Promise<{ path: string; step: number }> {
    return this.engine.load(request.path);
  }
}

/** 0 for unset weight decay and clipping, as the trainer has always sent (the engine's own grad_clip default is 1). */
function engineOptim(request: OptimStepRequest): { lr: number; weightDecay: number; gradClip: number } {
  return { lr: request.lr, weightDecay: request.weightDecay ?? 0, gradClip: request.gradClip ?? 0 };
}

/** The engine client's optimizer-step result with the engine's field names. */
function optimResult(r: { step: number; gradNorm: number | null; skipped: boolean }): OptimStepResult {
  return { step: r.step, grad_norm: r.gradNorm, skipped: r.skipped };
}
