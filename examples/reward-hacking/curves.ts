/**
 * Curves of the reward-hacking example, drawn from the two runs' own `metrics.jsonl` as one SVG
 * (no dependencies): training reward (what the verifier paid), true success (`reward/exact`), hack
 * rate (`reward/hedged`) and the guard's rate (`reward/disagreement`), per step.
 *
 *   npx tsx examples/reward-hacking/curves.ts UNGUARDED_RUN_DIR GUARDED_RUN_DIR OUT.svg
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseJsonl } from '../../src/core/json-files.js';
import { StepMetrics } from '../../src/core/run-manifest.js';

const SERIES = [
  { key: 'reward', label: 'training reward (verifier)', color: '#1f77b4' },
  { key: 'reward/exact', label: 'true success (exact)', color: '#2ca02c' },
  { key: 'reward/hedged', label: 'hack rate (hedged)', color: '#d62728' },
  { key: 'reward/disagreement', label: 'guard: disagreement', color: '#ff7f0e', dashed: true },
] as const;

export function readMetrics(runDir: string): StepMetrics[] {
  const path = join(runDir, 'metrics.jsonl');
  if (!existsSync(path)) return [];
  return parseJsonl({ text: readFileSync(path, 'utf8'), schema: StepMetrics }).items;
}

function panel(options: { x0: number; title: string; metrics: StepMetrics[]; alarmStep: number | null }): string {
  const { x0, metrics } = options;
  const w = 420, h = 260, left = 40, top = 30;
  const steps = Math.max(1, ...metrics.map((m) => m.step));
  const px = (s: number) => x0 + left + (s / steps) * (w - left - 10);
  const py = (v: number) => top + (1 - v) * (h - top - 30);
  const parts: string[] = [`<text x="${x0 + w / 2}" y="18" text-anchor="middle" font-size="13">${options.title}</text>`];
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${px(0)}" x2="${px(steps)}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/><text x="${x0 + left - 4}" y="${py(v) + 4}" text-anchor="end" font-size="10">${v}</text>`);
  }
  parts.push(`<text x="${x0 + w / 2}" y="${h - 4}" text-anchor="middle" font-size="10">GRPO step (0–${steps})</text>`);
  if (options.alarmStep !== null) {
    parts.push(`<line x1="${px(options.alarmStep)}" x2="${px(options.alarmStep)}" y1="${py(1)}" y2="${py(0)}" stroke="#000" stroke-dasharray="2,3"/><text x="${px(options.alarmStep) + 3}" y="${py(1) + 10}" font-size="10">alarm (step ${options.alarmStep})</text>`);
  }
  for (const s of SERIES) {
    const pts = metrics.filter((m) => typeof m[s.key] === 'number').map((m) => `${px(m.step).toFixed(1)},${py(m[s.key] as number).toFixed(1)}`);
    if (pts.length) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5"${'dashed' in s ? ' stroke-dasharray="5,3"' : ''} points="${pts.join(' ')}"/>`);
  }
  return parts.join('\n');
}

/** The SVG: the unguarded run (guards watching) on the left, the guard-enforced run on the right. */
export function curvesSvg(options: { title: string; unguardedDir: string; guardedDir: string; alarmStep: number | null }): string {
  const legend = SERIES.map((s, i) => `<line x1="${20 + i * 210}" x2="${40 + i * 210}" y1="290" y2="290" stroke="${s.color}" stroke-width="2"${'dashed' in s ? ' stroke-dasharray="5,3"' : ''}/><text x="${44 + i * 210}" y="294" font-size="11">${s.label}</text>`).join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="860" height="305" font-family="sans-serif">`,
    `<rect width="860" height="305" fill="white"/>`,
    panel({ x0: 0, title: `${options.title}: loose verifier, guards watching`, metrics: readMetrics(options.unguardedDir), alarmStep: options.alarmStep }),
    panel({ x0: 430, title: 'same SFT model, guard enforced', metrics: readMetrics(options.guardedDir), alarmStep: null }),
    legend,
    `</svg>`,
  ].join('\n') + '\n';
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL('.', import.meta.url).pathname, 'curves.ts')) {
  const [unguardedDir, guardedDir, out] = process.argv.slice(2);
  if (!unguardedDir || !guardedDir || !out) {
    process.stderr.write('usage: curves.ts UNGUARDED_RUN_DIR GUARDED_RUN_DIR OUT.svg\n');
    process.exit(2);
  }
  writeFileSync(out, curvesSvg({ title: 'reward hacking', unguardedDir, guardedDir, alarmStep: null }));
}
