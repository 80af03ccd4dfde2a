export * from './errors.js';
export * from './rng.js';
export * from './messages.js';
export * from './trajectory.js';
export * from './rollout-result.js';
export * from './sampler.js';
export * from './environment.js';
export * from './parse.js';
