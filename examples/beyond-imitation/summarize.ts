/**
 * Prints a markdown table of finished runs' held-out test results (their `test-results.json`).
 *
 *   npx tsx examples/beyond-imitation/summarize.ts runs/beyond-imitation-seed0 runs/...
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { safeParseJson } from '../../src/core/index.js';

const Kinds = z.object({ correct: z.number(), careless: z.number(), other: z.number() });
const Scores = z.object({ greedy: z.number(), sampled: z.number(), greedyWithCarry: z.number(), greedyNoCarry: z.number(), sampledCarryKinds: Kinds.optional() });

/** The part of `test-results.json` the table shows. */
export const TestResults = z
  .object({
    schemaVersion: z.literal(1),
    seed: z.number(),
    teacher: z.number(),
    testTasks: z.number(),
    start: Scores.extend({ model: z.string() }),
    grpo: Scores,
    trainSeconds: z.number(),
    sftSeconds: z.number().nullable(),
    config: z.object({ sftSteps: z.number(), steps: z.number(), groupSize: z.number(), loss: z.string(), advantageScale: z.string() }).loose(),
  })
  .loose();
export type TestResults = z.infer<typeof TestResults>;

/** Reads `<runDir>/test-results.json`, or explains what is wrong with it. */
export function readTestResults(runDir: string): TestResults {
  const path = join(runDir, 'test-results.json');
  if (!existsSync(path)) throw new Error(`${path} not found (the run has not finished its test scoring)`);
  const parsed = safeParseJson(readFileSync(path, 'utf8'), TestResults);
  if (!parsed.success) throw new Error(`${path}: ${parsed.error}`);
  return parsed.data;
}

/** One markdown table row per run. */
export function resultsTable(runs: readonly { name: string; results: TestResults }[]): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    '| run | seed | SFT steps | GRPO steps | loss | group | teacher | start greedy | start T=1 | start greedy, slip tasks | GRPO greedy | GRPO T=1 | GRPO greedy, slip tasks | GRPO greedy, other tasks | train time |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const { name, results: r } of runs) {
    const loss = r.config.loss === 'grpo' && r.config.advantageScale === 'group' ? 'GRPO' : `${r.config.loss} (${r.config.advantageScale} scale)`;
    lines.push(
      `| ${name} | ${r.seed} | ${r.config.sftSteps} | ${r.config.steps} | ${loss} | ${r.config.groupSize} | ${pct(r.teacher)} | ${pct(r.start.greedy)} | ${pct(r.start.sampled)} | ${pct(r.start.greedyWithCarry)} | ${pct(r.grpo.greedy)} | ${pct(r.grpo.sampled)} | ${pct(r.grpo.greedyWithCarry)} | ${pct(r.grpo.greedyNoCarry)} | ${Math.round(r.trainSeconds)} s |`,
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * One markdown row per run comparing the starting (SFT) model with the teacher like for like: the
 * teacher's demonstrations are samples, so the model is sampled too (T = 1), and on slip tasks
 * (where the teacher's slip changes the answer) its samples are split into the exact total, the
 * teacher's careless total, and anything else.
 */
export function imitationTable(runs: readonly { name: string; results: TestResults }[]): string {
  const pct = (x: number | undefined) => (x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);
  const lines = [
    '| run | seed | teacher | start T=1 | start greedy | start T=1 on slip tasks: correct | careless (teacher\'s mistake) | other | GRPO T=1 on slip tasks: correct | careless | other |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const { name, results: r } of runs) {
    const s = r.start.sampledCarryKinds;
    const g = r.grpo.sampledCarryKinds;
    lines.push(`| ${name} | ${r.seed} | ${pct(r.teacher)} | ${pct(r.start.sampled)} | ${pct(r.start.greedy)} | ${pct(s?.correct)} | ${pct(s?.careless)} | ${pct(s?.other)} | ${pct(g?.correct)} | ${pct(g?.careless)} | ${pct(g?.other)} |`);
  }
  return lines.join('\n') + '\n';
}

const here = new URL('.', import.meta.url).pathname;
if (process.argv[1] && join(process.argv[1]) === join(here, 'summarize.ts')) {
  const dirs = process.argv.slice(2);
  const runs = dirs.map((d) => ({ name: d.split('/').filter(Boolean).at(-1) ?? d, results: readTestResults(d) }));
  process.stdout.write(resultsTable(runs) + '\n' + imitationTable(runs));
}
