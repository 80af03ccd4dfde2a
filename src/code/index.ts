// Coding environments: tasks, the HumanEval loader, and `codeEnv` (sandboxed grading, tools, guards).
export * from './code-task.js';
export * from './builtin-tasks.js';
export * from './code-env.js';
