export * from './reward-function.js';
export * from './rubric.js';
export * from './xml-parser.js';
export * from './think-parser.js';
export * from './answer-match.js';
export * from './numeric.js';
export * from './rubric-group.js';
export * from './judge-rubric.js';
