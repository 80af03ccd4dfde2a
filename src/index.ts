// The public surface of keiko: what users import from 'keiko'.
export * from './core/index.js';
export * from './envs/index.js';
export * from './rubrics/index.js';
export * from './samplers/index.js';
export * from './engine/index.js';
export * from './rollout/index.js';
export * from './train/index.js';
export * from './search/index.js';
export * from './runs/index.js';
export * from './proxy/index.js';
