export * from './dataset.js';
export * from './dataset-split.js';
export * from './env-args.js';
export * from './multi-turn-env.js';
export * from './single-turn-env.js';
