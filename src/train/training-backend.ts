import { z } from 'zod';
import { EngineError } from '../core/errors.js';
import { safeParseJson } from '../core/parse.js';

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

export const ForwardBackwardResult = z.object({
  loss: z.number().nullable(),
  kl: z.number().nullable().default(0),
  clip_fraction: z.number().nullable().default(0),
  entropy: z.number().nullable().default(0),
  tokens: z.number(),
  sequences: z.number(),
  seconds: z.number().default(0),
  tokens_per_s: z.number().nullable().default(0),
  nonfinite: z.boolean().default(false),
});
export type ForwardBackwardResult = z.infer<typeof ForwardBackwardResult>;

export const OptimStepResult = z.object({ step: z.number().int(), grad_norm: z.number().nullable().default(null), skipped: z.boolean().default(false) });
export type OptimStepResult = z.infer<typeof OptimStepResult>;

export const EngineInfo = z
  .object({ model: z.string(), step: z.number().int(), vocab_size: z.number().int(), max_context: z.number().int(), parameters: z.number().optional(), device: z.string().optional() })
  .loose();
export type EngineInfo = z.infer<typeof EngineInfo>;

/**
 * The training half of the engine, as the trainer uses it. `EngineTrainingClient` implements it
 * over HTTP; tests may pass another implementation.
 */
export interface TrainingBackend {
  info(): Promise<EngineInfo>;
  forwardBackward(request: { sequences: WireSequence[]; loss: LossSpec; microBatchSize?: number; scale?: number }): Promise<ForwardBackwardResult>;
  optimStep(request: { lr: number; weightDecay?: number; gradClip?: number }): Promise<OptimStepResult>;
  save(request: { path: string; optimizer?: boolean; mergedLora?: boolean }): Promise<{ path: string; step: number }>;
  load(request: { path: string }): Promise<{ path: string; step: number }>;
}

const SaveResult = z.object({ path: z.string(), step: z.number().int() }).loose();
const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** HTTP client for the engine's `/train/*` endpoints (see engine/API.md). */
export class EngineTrainingClient implements TrainingBackend {
  readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(options: { baseUrl: string; timeoutMs?: number }) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.timeoutMs = options.timeoutMs ?? 600_000;
  }

  info(): Promise<EngineInfo> {
    return this.call('GET', '/info', undefined, EngineInfo);
  }

  forwardBackward(request: { sequences: WireSequence[]; loss: LossSpec; microBatchSize?: number; scale?: number }): Promise<ForwardBackwardResult> {
    const body: Record<string, unknown> = { sequences: request.sequences, loss: request.loss };
    if (request.microBatchSize !== undefined) body['micro_batch_size'] = request.microBatchSize;
    if (request.scale !== undefined) body['scale'] = request.scale;
    return this.call('POST', '/train/forward_backward', body, ForwardBackwardResult);
  }

  optimStep(request: { lr: number; weightDecay?: number; gradClip?: number }): Promise<OptimStepResult> {
    return this.call('POST', '/train/optim_step', { lr: request.lr, weight_decay: request.weightDecay ?? 0, grad_clip: request.gradClip ?? 0 }, OptimStepResult);
  }

  save(request: { path: string; optimizer?: boolean; mergedLora?: boolean }): Promise<{ path: string; step: number }> {
    return this.call('POST', '/train/save', { path: request.path, optimizer: request.optimizer ?? true, merged_lora: request.mergedLora ?? false }, SaveResult);
  }

  load(request: { path: string }): Promise<{ path: string; step: number }> {
    return this.call('POST', '/train/load', { path: request.path }, SaveResult);
  }

  private async call<S extends z.ZodType>(method: string, path: string, body: unknown, schema: S): Promise<z.infer<S>> {
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new EngineError(`engine unreachable at ${this.baseUrl}${path}: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) {
      const parsed = safeParseJson(text, ErrorBody);
      const detail = parsed.success ? `${parsed.data.error.code}: ${parsed.data.error.message}` : text.slice(0, 300);
      throw new EngineError(`engine ${method} ${path} failed (${response.status}): ${detail}`, { status: response.status });
    }
    const parsed = safeParseJson(text, schema);
    if (!parsed.success) throw new EngineError(`engine ${path} returned an unexpected body: ${parsed.error}`);
    return parsed.data;
  }
}
