/**
 * Renders a training run's curves from its own files — `sft/metrics.jsonl`, `metrics.jsonl` and
 * `evals/*.json` — as an SVG (no dependencies) and, when Chromium is available, a PNG screenshot
 * of it (headless Chromium through playwright-core).
 *
 *   npx tsx examples/beyond-imitation/render-curves.ts RUN_DIR [--teacher=0.61] [--out=FILE.png]
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { safeParseJson } from '../../src/core/index.js';
import { parseJsonl } from '../../src/core/json-files.js';
import { StepMetrics } from '../../src/core/run-manifest.js';
import { readTestResults } from './summarize.js';

interface Series {
  label: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
  /** Markers only, no line (two measurements that are not a curve). */
  markers?: boolean;
}

interface Panel {
  title: string;
  xLabel: string;
  yMin: number;
  yMax: number;
  series: Series[];
  /** Where the legend goes: top right (default) or bottom right. */
  legend?: 'top' | 'bottom';
}

const EvalFile = z.object({ reward: z.number(), step: z.number().int() }).loose();

/** Valid metrics lines (torn and corrupt lines skipped, as `parseJsonl` does for every run file). */
function readMetrics(path: string): StepMetrics[] {
  if (!existsSync(path)) return [];
  return parseJsonl({ text: readFileSync(path, 'utf8'), schema: StepMetrics }).items;
}

/** Validation evals of a run (the summaries `evals/before.json`, `step-N.json`, `after.json`) as (step, reward). */
function readEvals(runDir: string): [number, number][] {
  const dir = join(runDir, 'evals');
  if (!existsSync(dir)) return [];
  const points: [number, number][] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    const parsed = safeParseJson(readFileSync(join(dir, name), 'utf8'), EvalFile);
    if (parsed.success) points.push([parsed.data.step, parsed.data.reward]);
  }
  return points.sort((a, b) => a[0] - b[0]);
}

/** Trailing moving average, to make per-step training reward readable. */
function smooth(points: [number, number][], window: number): [number, number][] {
  return points.map(([x], i) => {
    const slice = points.slice(Math.max(0, i - window + 1), i + 1);
    return [x, slice.reduce((a, p) => a + p[1], 0) / slice.length];
  });
}

function panelSvg(panel: Panel, x0: number, y0: number, w: number, h: number): string {
  const pad = { l: 48, r: 12, t: 28, b: 36 };
  const xs = panel.series.flatMap((s) => s.points.map((p) => p[0]));
  const xMin = Math.min(0, ...xs);
  const xMax = Math.max(1, ...xs);
  const px = (x: number) => x0 + pad.l + ((x - xMin) / (xMax - xMin)) * (w - pad.l - pad.r);
  const py = (y: number) => y0 + pad.t + (1 - (y - panel.yMin) / (panel.yMax - panel.yMin)) * (h - pad.t - pad.b);
  const parts: string[] = [];
  parts.push(`<text x="${x0 + pad.l}" y="${y0 + 18}" font-size="14" font-weight="600">${panel.title}</text>`);
  for (let i = 0; i <= 4; i++) {
    const y = panel.yMin + ((panel.yMax - panel.yMin) * i) / 4;
    parts.push(`<line x1="${px(xMin)}" x2="${px(xMax)}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${px(xMin) - 6}" y="${py(y) + 4}" font-size="11" text-anchor="end">${Number(y.toFixed(2))}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const x = xMin + ((xMax - xMin) * i) / 4;
    parts.push(`<text x="${px(x)}" y="${py(panel.yMin) + 16}" font-size="11" text-anchor="middle">${Math.round(x)}</text>`);
  }
  parts.push(`<text x="${px((xMin + xMax) / 2)}" y="${y0 + h - 4}" font-size="12" text-anchor="middle">${panel.xLabel}</text>`);
  panel.series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points.map(([x, y], j) => `${j ? 'L' : 'M'}${px(x).toFixed(1)},${py(Math.min(panel.yMax, Math.max(panel.yMin, y))).toFixed(1)}`).join(' ');
    if (!s.markers) parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    if (s.points.length < 30) for (const [x, y] of s.points) parts.push(`<circle cx="${px(x)}" cy="${py(y)}" r="${s.markers ? 6 : 3}" fill="${s.color}"/>`);
    const ly = panel.legend === 'bottom' ? y0 + h - pad.b - 10 - (panel.series.length - 1 - i) * 16 : y0 + pad.t + 6 + i * 16;
    if (s.markers) parts.push(`<circle cx="${x0 + w - 180}" cy="${ly}" r="5" fill="${s.color}"/>`);
    else parts.push(`<line x1="${x0 + w - 190}" x2="${x0 + w - 170}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${x0 + w - 165}" y="${ly + 4}" font-size="11">${s.label}</text>`);
  });
  return parts.join('\n');
}

/** The SVG for a run: SFT loss on the left, GRPO training reward and validation accuracy on the right. */
export function curvesSvg(options: { runDir: string; title: string; teacher?: number; test?: { start: number; end: number } }): string {
  const sft = readMetrics(join(options.runDir, 'sft', 'metrics.jsonl'));
  const grpo = readMetrics(join(options.runDir, 'metrics.jsonl'));
  const evals = readEvals(options.runDir);
  const lossPoints = sft.filter((m) => typeof m.loss === 'number').map((m): [number, number] => [m.step, m.loss as number]);
  const rewardPoints = grpo.filter((m) => typeof m.reward === 'number').map((m): [number, number] => [m.step, m.reward as number]);
  const lastStep = Math.max(1, ...grpo.map((m) => m.step));
  const panels: Panel[] = [];
  if (lossPoints.length) {
    panels.push({ title: 'SFT on the teacher: loss', xLabel: 'SFT step', yMin: 0, yMax: Math.min(4, Math.max(...lossPoints.map((p) => p[1]))), series: [{ label: 'train loss', color: '#1f77b4', points: lossPoints }] });
  }
  const series: Series[] = [
    { label: 'train reward (5-step avg)', color: '#ff7f0e', points: smooth(rewardPoints, 5) },
    { label: 'validation accuracy (greedy)', color: '#2ca02c', points: evals },
  ];
  if (options.teacher !== undefined) series.push({ label: `teacher on test (${(100 * options.teacher).toFixed(0)}%)`, color: '#7f7f7f', dashed: true, points: [[0, options.teacher], [lastStep, options.teacher]] });
  if (options.test) series.push({ label: 'test accuracy, greedy (start, end)', color: '#d62728', points: [[0, options.test.start], [lastStep, options.test.end]], markers: true });
  panels.push({ title: 'GRPO on the reward: accuracy', xLabel: 'GRPO step', yMin: 0, yMax: 1, series, legend: 'bottom' });
  const w = 520;
  const h = 320;
  const width = w * panels.length;
  const body = panels.map((p, i) => panelSvg(p, i * w, 24, w, h)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h + 30}" viewBox="0 0 ${width} ${h + 30}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="12" y="18" font-size="15" font-weight="700">${options.title}</text>
${body}
</svg>
`;
}

/**
 * Writes `<runDir>/curves.svg` and, when a Chromium is found, `<runDir>/curves.png` (or `out`).
 * Returns the paths written.
 */
export async function renderCurves(options: { runDir: string; title: string; teacher?: number; test?: { start: number; end: number }; out?: string }): Promise<string[]> {
  const svg = curvesSvg(options);
  const svgPath = join(options.runDir, 'curves.svg');
  writeFileSync(svgPath, svg);
  const written = [svgPath];
  const chromium = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
  if (!chromium) return written;
  const { chromium: launcher } = await import('playwright-core');
  const browser = await launcher.launch({ executablePath: chromium, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1040, height: 350 } });
    await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
    const pngPath = options.out ?? join(options.runDir, 'curves.png');
    await page.locator('svg').screenshot({ path: pngPath });
    written.push(pngPath);
  } finally {
    await browser.close();
  }
  return written;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === resolve(new URL('.', import.meta.url).pathname, 'render-curves.ts');
if (isMain) {
  const args = process.argv.slice(2);
  const runDir = args.find((a) => !a.startsWith('--'));
  const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  if (!runDir) {
    process.stderr.write('usage: render-curves.ts RUN_DIR [--teacher=0.61] [--out=FILE.png]\n');
    process.exit(2);
  }
  const out = flag('out');
  // A finished run.ts run has the teacher and test numbers; otherwise --teacher may be given.
  const results = existsSync(join(runDir, 'test-results.json')) ? readTestResults(runDir) : undefined;
  const teacher = flag('teacher') ? Number(flag('teacher')) : results?.teacher;
  renderCurves({
    runDir,
    title: flag('title') ?? runDir,
    ...(teacher !== undefined ? { teacher } : {}),
    ...(results ? { test: { start: results.start.greedy, end: results.grpo.greedy } } : {}),
    ...(out ? { out } : {}),
  })
    .then((paths) => process.stdout.write(paths.join('\n') + '\n'))
    .catch((error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    });
}
