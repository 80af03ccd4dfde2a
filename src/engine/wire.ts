import { z } from 'zod';

// The engine's training API (engine/API.md) as keiko sees it: camelCase zod schemas, one per body.
// The engine speaks snake_case; `toWire`/`fromWire` convert keys in exactly one place (the HTTP
// client, ./http.ts). Request fields are optional where the engine has a default, and the default is
// stated only there (engine/keiko_engine/server.py): a contract test (./contract.test.ts) compares
// these schemas with the engine's OpenAPI schema and fails when a field, type or default drifts.

/** Policy-gradient loss families the engine implements (formulas in engine/API.md). */
export const LossType = z.enum(['sft', 'grpo', 'dr_grpo', 'dapo', 'bnpo', 'gspo']);
export type LossType = z.infer<typeof LossType>;

/** One training sequence. Every array is aligned with `inputIds`. */
export const TrainSequence = z.object({
  inputIds: z.array(z.number().int()), // [T]
  /** 1 where `inputIds[i]` is a trained token (predicted from the prefix); `lossMask[0]` is 0. */
  lossMask: z.array(z.union([z.literal(0), z.literal(1)])), // [T]
  /** One advantage for the sequence, or one per token. Ignored by 'sft'. */
  advantages: z.union([z.number(), z.array(z.number())]).optional(),
  /** The sampler's logprob of `inputIds[i]` at trained positions. */
  samplerLogprobs: z.array(z.number()).nullable().optional(), // [T]
  /** Reference-policy logprobs; default: the engine's frozen reference. */
  refLogprobs: z.array(z.number()).nullable().optional(), // [T]
  /**
   * Optimizer step of the weights that sampled this sequence. Equal to the engine's step: on-policy
   * (the PPO ratio is 1). Older, or absent: stale, and the ratio is taken against `samplerLogprobs`.
   */
  policyVersion: z.number().int().nullable().optional(),
  /**
   * The rollout group the sequence came from (`RolloutResult.groupId`). The engine keeps a group's
   * sequences in one micro-batch by it; without it, sequences with equal prompts are grouped.
   */
  groupId: z.union([z.string(), z.number().int()]).nullable().optional(),
});
export type TrainSequence = z.infer<typeof TrainSequence>;

/** Loss options of one forward/backward call; the engine's defaults apply to what is left out. */
export const LossSpec = z.object({
  type: LossType.optional(),
  /** The PPO ratio is clipped below at 1 - epsLow. */
  epsLow: z.number().optional(),
  /** … and above at 1 + epsHigh (DAPO's clip-higher: 0.28). */
  epsHigh: z.number().optional(),
  /** Weight of the k3 KL estimator to the reference policy. */
  klBeta: z.number().optional(),
  /** Truncated importance sampling between the trainer's and the sampler's logprobs (TRL's TIS). */
  isCorrection: z.enum(['none', 'truncated']).optional(),
  /** Cap of the truncated IS weight. */
  isCap: z.number().optional(),
  /** dr_grpo's constant per-sequence token budget (TRL: the max completion length); absent: the longest sequence in the request. */
  maxTokens: z.number().int().nullable().optional(),
  /** |trainer − sampler| logprob (nats) above which a token counts in `logprobDiffAbove`. */
  mismatchThreshold: z.number().optional(),
});
export type LossSpec = z.infer<typeof LossSpec>;

/** One AdamW step with the accumulated gradients. */
export const OptimStepRequest = z.object({
  lr: z.number(),
  weightDecay: z.number().optional(),
  betas: z.tuple([z.number(), z.number()]).optional(),
  eps: z.number().optional(),
  /** Max global grad norm; null disables clipping. */
  gradClip: z.number().nullable().optional(),
});
export type OptimStepRequest = z.infer<typeof OptimStepRequest>;

export const ForwardBackwardRequest = z.object({
  sequences: z.array(TrainSequence),
  loss: LossSpec.optional(),
  /** Multiplies this call's gradient (one logical batch split over calls). */
  scale: z.number().optional(),
  /** Sequences per forward/backward chunk (memory against speed). */
  microBatchSize: z.number().int().nullable().optional(),
  /** Take this optimizer step in the same call, right after a finite forward/backward. */
  optimStep: OptimStepRequest.nullable().optional(),
});
export type ForwardBackwardRequest = z.infer<typeof ForwardBackwardRequest>;

export const SaveRequest = z.object({
  path: z.string(),
  /** Under LoRA: save merged full weights instead of the adapter. */
  mergedLora: z.boolean().optional(),
  /** Include the optimizer state. */
  optimizer: z.boolean().optional(),
});
export type SaveRequest = z.infer<typeof SaveRequest>;

export const LoadRequest = z.object({ path: z.string() });
export type LoadRequest = z.infer<typeof LoadRequest>;

/** `POST /train/export_weights`: a sync checkpoint for an inference server (vLLM's reload). */
export const ExportWeightsRequest = z.object({ path: z.string() });
export type ExportWeightsRequest = z.infer<typeof ExportWeightsRequest>;

/** GET /info. */
export const EngineInfo = z.object({
  model: z.string(),
  path: z.string(),
  architecture: z.string(),
  parameters: z.number().int(),
  trainableParameters: z.number().int(),
  dtype: z.string(),
  device: z.string(),
  threads: z.number().int(),
  /** Optimizer steps applied: the policy version. */
  step: z.number().int(),
  vocabSize: z.number().int(),
  maxContext: z.number().int(),
  hiddenSize: z.number().int().nullable(),
  layers: z.number().int().nullable(),
  lora: z.object({ rank: z.number().int(), alpha: z.number(), targetModules: z.array(z.string()) }).nullable(),
  chatTemplate: z.boolean(),
  eosTokenIds: z.array(z.number().int()),
  /** Processes training the model (torchrun ranks, FSDP2); > 1: the engine trains only and does not sample. */
  ranks: z.number().int(),
});
export type EngineInfo = z.infer<typeof EngineInfo>;

export const OptimStepResult = z.object({
  step: z.number().int(),
  /** Null when the gradients were not finite (the step was skipped). */
  gradNorm: z.number().nullable(),
  skipped: z.boolean(),
});
export type OptimStepResult = z.infer<typeof OptimStepResult>;

/** Metrics of a forward/backward call; non-finite values come back as null. */
export const ForwardBackwardResult = z.object({
  loss: z.number().nullable(),
  kl: z.number().nullable(),
  clipFraction: z.number().nullable(),
  entropy: z.number().nullable(),
  tokens: z.number().int(),
  sequences: z.number().int(),
  seconds: z.number(),
  tokensPerS: z.number().nullable(),
  nonfinite: z.boolean(),
  /** The step taken in the same call, when one was asked for; null: the loss was non-finite, nothing applied. */
  optimStep: OptimStepResult.nullable().optional(),
  /** Sampler–trainer mismatch |logp − samplerLogprob| over trained tokens (when the sequences carry sampler logprobs): mean, max, share above `loss.mismatchThreshold`. */
  logprobDiffMean: z.number().nullable().optional(),
  logprobDiffMax: z.number().nullable().optional(),
  logprobDiffAbove: z.number().nullable().optional(),
});
export type ForwardBackwardResult = z.infer<typeof ForwardBackwardResult>;

export const SaveResult = z.object({ path: z.string(), step: z.number().int(), seconds: z.number() });
export type SaveResult = z.infer<typeof SaveResult>;

export const LoadResult = z.object({ path: z.string(), step: z.number().int() });
export type LoadResult = z.infer<typeof LoadResult>;

export const ExportWeightsResult = z.object({
  path: z.string(),
  /** The policy version the exported weights are. */
  step: z.number().int(),
  /** Tensor bytes written. */
  bytes: z.number().int(),
  seconds: z.number(),
});
export type ExportWeightsResult = z.infer<typeof ExportWeightsResult>;

export const EngineErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** `POST /v1/chat/tokenize` (OpenAI-style request bodies, sent as they are). */
export const TokenizeResult = z.object({ data: z.array(z.object({ promptTokenIds: z.array(z.number().int()) })) });
export type TokenizeResult = z.infer<typeof TokenizeResult>;

/** A route of the engine's API with keiko-side request and response schemas. */
export interface EngineRoute {
  method: 'GET' | 'POST';
  path: string;
  /** The request body's schema (camelCase), or undefined for a GET. */
  request: z.ZodObject | undefined;
  /** 'camel': keys converted to snake_case on the way out; 'openai': an OpenAI-protocol body, sent as is. */
  requestKeys: 'camel' | 'openai';
  response: z.ZodType;
}

/** Every engine route keiko calls outside the OpenAI-compatible sampler. */
export const ENGINE_ROUTES = {
  info: { method: 'GET', path: '/info', request: undefined, requestKeys: 'camel', response: EngineInfo },
  forwardBackward: { method: 'POST', path: '/train/forward_backward', request: ForwardBackwardRequest, requestKeys: 'camel', response: ForwardBackwardResult },
  optimStep: { method: 'POST', path: '/train/optim_step', request: OptimStepRequest, requestKeys: 'camel', response: OptimStepResult },
  save: { method: 'POST', path: '/train/save', request: SaveRequest, requestKeys: 'camel', response: SaveResult },
  load: { method: 'POST', path: '/train/load', request: LoadRequest, requestKeys: 'camel', response: LoadResult },
  exportWeights: { method: 'POST', path: '/train/export_weights', request: ExportWeightsRequest, requestKeys: 'camel', response: ExportWeightsResult },
  tokenize: { method: 'POST', path: '/v1/chat/tokenize', request: undefined, requestKeys: 'openai', response: TokenizeResult },
} as const satisfies Record<string, EngineRoute>;

/** `inputIds` → `input_ids`. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `input_ids` → `inputIds`. */
export function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function mapKeys(value: unknown, rename: (key: string) => string): unknown {
  if (Array.isArray(value)) {
    // arrays of numbers (token ids, logprobs) are the bulk of a request: leave them untouched
    return value.length > 0 && typeof value[0] === 'object' && value[0] !== null ? value.map((v) => mapKeys(v, rename)) : value;
  }
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[rename(k)] = mapKeys(v, rename);
  return out;
}

/** A camelCase request body in the engine's snake_case (undefined fields dropped: the engine's default applies). */
export function toWire(body: unknown): unknown {
  return mapKeys(body, snakeCase);
}

/** An engine response in keiko's camelCase. */
export function fromWire(body: unknown): unknown {
  return mapKeys(body, camelCase);
}
