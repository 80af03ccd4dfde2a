import { describe, expect, it } from 'vitest';
import { fromWire, toWire } from './wire.js';

describe('the one case conversion', () => {
  it('snake-cases request keys at every depth, drops unset fields (the engine default applies) and leaves token arrays alone', () => {
    const ids = [5, 6, 7];
    const wire = toWire({ sequences: [{ inputIds: ids, lossMask: [0, 1, 1], samplerLogprobs: undefined, policyVersion: 3 }], loss: { type: 'dr_grpo', maxTokens: 8 }, microBatchSize: undefined, optimStep: { lr: 1e-3, gradClip: null } });
    expect(wire).toEqual({ sequences: [{ input_ids: [5, 6, 7], loss_mask: [0, 1, 1], policy_version: 3 }], loss: { type: 'dr_grpo', max_tokens: 8 }, optim_step: { lr: 1e-3, grad_clip: null } });
    expect(Object.keys(wire as object)).not.toContain('micro_batch_size');
    expect((wire as { sequences: { input_ids: number[] }[] }).sequences[0]!.input_ids).toBe(ids); // not copied
  });

  it('camel-cases response keys at every depth', () => {
    expect(fromWire({ clip_fraction: 0.1, optim_step: { grad_norm: 2, skipped: false }, lora: { target_modules: ['q_proj'] } })).toEqual({
      clipFraction: 0.1,
      optimStep: { gradNorm: 2, skipped: false },
      lora: { targetModules: ['q_proj'] },
    });
  });
});
