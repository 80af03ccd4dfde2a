/**
 * The tables of examples/reward-hacking/RESULTS.md, from the runs' own files (`test-results.json`,
 * `metrics.jsonl` of both runs of each seed).
 *
 *   npx tsx examples/reward-hacking/summarize.ts runs/reward-hacking-seed0 runs/reward-hacking-seed1 …
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { readMetrics } from './curves.js';

const Scores = z.object({ exact: z.number(), verifier: z.number(), hedged: z.number() });
const Model = z.object({ greedy: Scores, sampled: Scores });
const Alarm = z.object({ step: z.number(), value: z.number() }).nullable();
const Results = z.object({
  seed: z.number(),
  machine: z.string(),
  runs: z.object({ unguarded: z.string(), guarded: z.string() }),
  alarm: z.object({ disagreement: Alarm, audit: Alarm }),
  sft: Model,
  unguarded: Model,
  guarded: Model,
  seconds: z.object({ unguarded: z.number(), guarded: z.number(), total: z.number() }),
});

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const window = (xs: number[], from: number, to: number) => {
  const w = xs.slice(from, to);
  return w.reduce((a, b) => a + b, 0) / Math.max(1, w.length);
};

function trainCurve(dir: string, key: string): { first: number; last: number } {
  const values = readMetrics(dir).map((m) => (typeof m[key] === 'number' ? (m[key] as number) : 0));
  return { first: window(values, 0, 5), last: window(values, values.length - 5, values.length) };
}

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  process.stderr.write('usage: summarize.ts RUN_DIR...\n');
  process.exit(2);
}
const rows = dirs.map((d) => Results.parse(JSON.parse(readFileSync(`${d}/test-results.json`, 'utf8'))));
const out: string[] = [];
out.push('| seed | run | train reward (steps 1–5 → last 5) | train exact | train hedged | alarm step (disagreement / audit) | test exact, greedy | test verifier, greedy | test hedged, greedy | test exact, T=1 | test hedged, T=1 | minutes |');
out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const line = (label: string, dir: string | null, m: z.infer<typeof Model>, alarm: string, minutes: string) => {
    const c = (k: string) => (dir ? `${pct(trainCurve(dir, k).first)} → ${pct(trainCurve(dir, k).last)}` : '–');
    out.push(`| ${r.seed} | ${label} | ${c('reward')} | ${c('reward/exact')} | ${c('reward/hedged')} | ${alarm} | ${pct(m.greedy.exact)} | ${pct(m.greedy.verifier)} | ${pct(m.greedy.hedged)} | ${pct(m.sampled.exact)} | ${pct(m.sampled.hedged)} | ${minutes} |`);
  };
  line('SFT (start)', null, r.sft, '–', '');
  line('GRPO, guards watching', r.runs.unguarded, r.unguarded, `${r.alarm.disagreement?.step ?? 'never'} / ${r.alarm.audit?.step ?? 'never'}`, (r.seconds.unguarded / 60).toFixed(1));
  line('GRPO, guard enforced', r.runs.guarded, r.guarded, '–', (r.seconds.guarded / 60).toFixed(1));
}
out.push('');
for (const r of rows) out.push(`- seed ${r.seed}: ${(r.seconds.total / 60).toFixed(1)} minutes end to end; ${r.machine}`);
process.stdout.write(out.join('\n') + '\n');
