import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../core/errors.js';
import type { TrainingBackend } from '../engine/client.js';
import type { EngineInfo, ForwardBackwardRequest, ForwardBackwardResult, LossSpec, OptimStepResult, TrainSequence } from '../engine/wire.js';

/**
 * An in-memory `TrainingBackend` for unit tests of the trainer loop: counts optimizer steps, records
 * every call, writes a stand-in checkpoint (`config.json` + step) on save, and can be told to return
 * a non-finite loss or to fail as if the engine process had died.
 */
export class FakeTrainingBackend implements TrainingBackend {
  step = 0;
  readonly calls: { kind: 'forward' | 'optim' | 'save' | 'load'; step: number; sequences?: TrainSequence[]; loss?: LossSpec; lr?: number; path?: string; fused?: boolean }[] = [];
  /** Take a requested optimizer step inside `forwardBackward` (as the engine does) instead of leaving it to the caller. */
  fuseOptim = false;
  /** Optimizer steps (1-based, counted as forward calls) whose loss comes back non-finite. */
  nonfiniteAt = new Set<number>();
  /** Optimizer steps (1-based, counted as forward calls) whose loss is finite but whose gradient is not: the step is skipped. */
  nonfiniteGradAt = new Set<number>();
  /** Forward calls (1-based) that fail with an unreachable-engine error, once each. */
  dieAt = new Set<number>();
  private forwards = 0;

  info(): Promise<EngineInfo> {
    return Promise.resolve({ model: 'fake', path: 'fake', architecture: 'Fake', parameters: 1, trainableParameters: 1, dtype: 'float32', device: 'cpu', threads: 1, step: this.step, vocabSize: 100, maxContext: 512, hiddenSize: null, layers: null, lora: null, chatTemplate: true, eosTokenIds: [], ranks: 1 });
  }

  forwardBackward(request: ForwardBackwardRequest): Promise<ForwardBackwardResult> {
    this.forwards++;
    if (this.dieAt.delete(this.forwards)) return Promise.reject(new EngineError('engine unreachable at fake: ECONNREFUSED'));
    this.calls.push({ kind: 'forward', step: this.step, sequences: request.sequences, ...(request.loss ? { loss: request.loss } : {}) });
    const nonfinite = this.nonfiniteAt.has(this.forwards);
    const tokens = request.sequences.reduce((a, s) => a + s.lossMask.reduce<number>((x, y) => x + y, 0), 0);
    const result: ForwardBackwardResult = { loss: nonfinite ? null : 0.5, kl: 0, clipFraction: 0, entropy: 1, tokens, sequences: request.sequences.length, seconds: 0, tokensPerS: 0, nonfinite };
    if (this.fuseOptim && request.optimStep) result.optimStep = nonfinite ? null : this.applyStep(request.optimStep.lr, true);
    return Promise.resolve(result);
  }

  optimStep(request: { lr: number }): Promise<OptimStepResult> {
    return Promise.resolve(this.applyStep(request.lr, false));
  }

  private applyStep(lr: number, fused: boolean): OptimStepResult {
    if (this.nonfiniteGradAt.has(this.forwards)) return { step: this.step, gradNorm: null, skipped: true };
    this.step++;
    this.calls.push({ kind: 'optim', step: this.step, lr, fused });
    return { step: this.step, gradNorm: 1, skipped: false };
  }

  save(request: { path: string }): Promise<{ path: string; step: number }> {
    mkdirSync(request.path, { recursive: true });
    writeFileSync(join(request.path, 'config.json'), JSON.stringify({ fakeStep: this.step }));
    this.calls.push({ kind: 'save', step: this.step, path: request.path });
    return Promise.resolve({ path: request.path, step: this.step });
  }

  load(request: { path: string }): Promise<{ path: string; step: number }> {
    const file = join(request.path, 'config.json');
    if (!existsSync(file)) return Promise.reject(new EngineError(`checkpoint_error: ${request.path}`, { status: 400 }));
    this.step = (JSON.parse(readFileSync(file, 'utf8')) as { fakeStep: number }).fakeStep;
    this.calls.push({ kind: 'load', step: this.step, path: request.path });
    return Promise.resolve({ path: request.path, step: this.step });
  }
}
