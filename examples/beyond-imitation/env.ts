// The example's environment is the built-in `column-addition` (environments/column-addition/),
// which `keiko train` runs by default; re-exported so the example's config and scripts keep their path.
export * from '../../environments/column-addition/index.js';
