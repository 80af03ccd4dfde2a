/** Learning-rate schedule names (see `learningRate`). */
export type Schedule = 'constant' | 'linear' | 'cosine';

/**
 * The learning rate for optimizer step `step` (1-based): linear warmup over `warmupSteps`, then
 * constant, linear decay to 0, or cosine decay to 0 at `totalSteps`.
 */
export function learningRate(options: { step: number; lr: number; schedule: Schedule; warmupSteps: number; totalSteps: number }): number {
  const { step, lr, schedule, warmupSteps, totalSteps } = options;
  if (warmupSteps > 0 && step <= warmupSteps) return (lr * step) / warmupSteps;
  if (schedule === 'constant') return lr;
  const span = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - warmupSteps - 1) / span));
  if (schedule === 'linear') return lr * (1 - progress);
  return lr * 0.5 * (1 + Math.cos(Math.PI * progress));
}
