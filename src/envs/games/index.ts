export * from './builtin.js';
export * from './kuhn-poker.js';
export * from './nim.js';
export * from './play.js';
export * from './players.js';
export * from './tic-tac-toe.js';
