import { z } from 'zod';

// Typed shapes of keiko's engine HTTP API (engine/API.md). Requests are camel-cased here and sent
// snake-cased; responses are validated with these schemas before use.

/** GET /info. */
export const EngineInfo = z.looseObject({
  model: z.string(),
  architecture: z.string(),
  parameters: z.number().int(),
  trainable_parameters: z.number().int().optional(),
  dtype: z.string(),
  device: z.string(),
  threads: z.number().int(),
  step: z.number().int(),
  vocab_size: z.number().int(),
  max_context: z.number().int(),
  lora: z.looseObject({ rank: z.number().int(), alpha: z.number(), target_modules: z.array(z.string()) }).nullable(),
});
export type EngineInfo = z.infer<typeof EngineInfo>;

/** Policy-gradient loss families the engine implements (see engine/API.md for the formulas). */
export const LossType = z.enum(['sft', 'grpo', 'dr_grpo', 'dapo', 'bnpo', 'gspo']);
export type LossType = z.infer<typeof LossType>;

/** Loss options for one forward/backward call. */
export interface LossSpec {
  type: LossType;
  /** Ratio clipped below at 1 - epsLow. Default 0.2. */
  epsLow?: number;
  /** Ratio clipped above at 1 + epsHigh (DAPO: 0.28). Default 0.2. */
  epsHigh?: number;
  /** Weight of the k3 KL estimator to the reference policy. Default 0. */
  klBeta?: number;
  /** Truncated importance sampling between the sampler's and the trainer's logprobs. Default 'none'. */
  isCorrection?: 'none' | 'truncated';
  /** Cap of the truncated IS weight. Default 2. */
  isCap?: number;
  /** dr_grpo's constant per-sequence token budget. Default: longest sequence in the batch. */
  maxTokens?: number;
}

/** One training sequence. All arrays are aligned with `inputIds`. */
export interface TrainSequence {
  inputIds: number[];
  /** 1 where `inputIds[i]` is a trained completion token (predicted from the prefix); `lossMask[0]` is 0. */
  lossMask: (0 | 1)[];
  /** One advantage for the sequence, or one per token. Ignored by 'sft'. */
  advantages?: number | number[];
  /** Sampler logprob of `inputIds[i]` at masked positions (0 elsewhere). */
  samplerLogprobs?: number[];
  /** Reference-policy logprobs; default: the engine's frozen reference. */
  refLogprobs?: number[];
}

export interface OptimStepRequest {
  lr: number;
  weightDecay?: number;
  betas?: [number, number];
  eps?: number;
  /** Max global grad norm; null disables clipping. Default 1. */
  gradClip?: number | null;
}

export const OptimStepResult = z
  .object({ step: z.number().int(), grad_norm: z.number().nullable(), skipped: z.boolean() })
  .transform((r) => ({ step: r.step, gradNorm: r.grad_norm, skipped: r.skipped }));
export type OptimStepResult = z.infer<typeof OptimStepResult>;

export interface ForwardBackwardRequest {
  sequences: TrainSequence[];
  loss: LossSpec;
  /** Multiplies this call's gradient (when one logical batch is split over calls). Default 1. */
  scale?: number;
  microBatchSize?: number;
  /** Take this optimizer step in the same call, right after a finite forward/backward. */
  optimStep?: OptimStepRequest;
}

export const ForwardBackwardResult = z
  .object({
    loss: z.number().nullable(),
    kl: z.number(),
    clip_fraction: z.number(),
    entropy: z.number(),
    tokens: z.number().int(),
    sequences: z.number().int(),
    seconds: z.number(),
    tokens_per_s: z.number(),
    nonfinite: z.boolean(),
    optim_step: OptimStepResult.nullish(),
  })
  .transform((r) => ({
    loss: r.loss,
    kl: r.kl,
    clipFraction: r.clip_fraction,
    entropy: r.entropy,
    tokens: r.tokens,
    sequences: r.sequences,
    seconds: r.seconds,
    tokensPerS: r.tokens_per_s,
    nonfinite: r.nonfinite,
    /** The step taken in the same call (when asked for); null when the loss was non-finite. */
    ...(r.optim_step !== undefined ? { optimStep: r.optim_step } : {}),
  }));
export type ForwardBackwardResult = z.infer<typeof ForwardBackwardResult>;

export interface SaveRequest {
  path: string;
  /** Under LoRA: save merged full weights instead of the adapter. */
  mergedLora?: boolean;
  /** Include optimizer state. Default true. */
  optimizer?: boolean;
}

export const SaveResult = z.object({ path: z.string(), step: z.number().int(), seconds: z.number() });
export type SaveResult = z.infer<typeof SaveResult>;

export const LoadResult = z.object({ path: z.string(), step: z.number().int() });
export type LoadResult = z.infer<typeof LoadResult>;

export const EngineErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** Converts a camel-cased request to the engine's snake-cased wire format. */
export function toWire(request: ForwardBackwardRequest): Record<string, unknown> {
  const l = request.loss;
  return {
    sequences: request.sequences.map((s) => ({
      input_ids: s.inputIds,
      loss_mask: s.lossMask,
      advantages: s.advantages ?? 0,
      ...(s.samplerLogprobs ? { sampler_logprobs: s.samplerLogprobs } : {}),
      ...(s.refLogprobs ? { ref_logprobs: s.refLogprobs } : {}),
    })),
    loss: {
      type: l.type,
      ...(l.epsLow !== undefined ? { eps_low: l.epsLow } : {}),
      ...(l.epsHigh !== undefined ? { eps_high: l.epsHigh } : {}),
      ...(l.klBeta !== undefined ? { kl_beta: l.klBeta } : {}),
      ...(l.isCorrection !== undefined ? { is_correction: l.isCorrection } : {}),
      ...(l.isCap !== undefined ? { is_cap: l.isCap } : {}),
      ...(l.maxTokens !== undefined ? { max_tokens: l.maxTokens } : {}),
    },
    ...(request.scale !== undefined ? { scale: request.scale } : {}),
    ...(request.microBatchSize !== undefined ? { micro_batch_size: request.microBatchSize } : {}),
    ...(request.optimStep !== undefined ? { optim_step: optimStepWire(request.optimStep) } : {}),
  };
}

/** The snake-cased `optim_step` body. */
export function optimStepWire(request: OptimStepRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { lr: request.lr };
  if (request.weightDecay !== undefined) body.weight_decay = request.weightDecay;
  if (request.betas !== undefined) body.betas = request.betas;
  if (request.eps !== undefined) body.eps = request.eps;
  if (request.gradClip !== undefined) body.grad_clip = request.gradClip;
  return body;
}
