// The sandbox for model-written programs: bubblewrap namespaces plus kernel resource limits.
export * from './sandbox.js';
