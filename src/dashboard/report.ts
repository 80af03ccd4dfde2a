import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { queryRollouts } from '../runs/index.js';
import { stepSource } from '../runs/index.js';
import { RunNotFoundError, RunStore } from '../runs/index.js';
import type { EvalSummary } from '../runs/index.js';
import type { RolloutView } from '../runs/index.js';
import { DASHBOARD_API_VERSION, type ReportData } from './payloads.js';

/** Options of `buildReport`. */
export interface ReportOptions {
  runsDir: string;
  runId: string;
  /** The built dashboard page (index.html, app.js, app.css). */
  webDir: string;
  /** Rollouts kept per source: the lowest- and highest-reward halves. */
  rolloutsPerSource?: number;
  /** A store to reuse (its file cache); one is made otherwise. */
  store?: RunStore;
}

/** Collects what a report shows: metrics, sampled rollouts of the first and last steps and of evals, eval summaries. */
export async function collectReportData(options: Omit<ReportOptions, 'webDir'>): Promise<ReportData> {
  const { runId, rolloutsPerSource = 12 } = options;
  const store = options.store ?? new RunStore({ runsDir: options.runsDir });
  const run = await store.run({ runId });
  const scan = await store.listRuns();
  const summary = scan.runs.find((r) => r.id === runId);
  if (!summary) throw new RunNotFoundError(`unknown run '${runId}'`);
  const metrics = (await store.metrics({ runId })).rows;
  const steps = run.rolloutSteps;
  const picked = [
    ...run.evalSources.slice(-2),
    ...(steps.length ? [stepSource(steps[0]!)] : []),
    ...(steps.length > 1 ? [stepSource(steps[steps.length - 1]!)] : []),
  ];
  const rollouts: Record<string, RolloutView[]> = {};
  const rolloutTotals: Record<string, number> = {};
  for (const source of picked) {
    const all = (await store.allRollouts({ runId, source })).rollouts;
    rolloutTotals[source] = all.length;
    rollouts[source] = sampleByReward(all, rolloutsPerSource);
  }
  const evals: Record<string, EvalSummary> = {};
  for (const source of run.evalSources) evals[source] = (await store.evalSummary({ runId, source })).summary;
  const included = new Set(picked);
  return {
    schemaVersion: DASHBOARD_API_VERSION,
    generatedAt: new Date().toISOString(),
    summary,
    run: { ...run, sources: run.sources.filter((s) => included.has(s)), rolloutSteps: steps.filter((s) => included.has(stepSource(s))) },
    metrics,
    rollouts,
    rolloutTotals,
    evals,
  };
}

/**
 * One self-contained HTML file for a run: the dashboard page with its script, styles and the run's
 * data inlined, so it opens from disk (file://) with no server and no network.
 */
export async function buildReport(options: ReportOptions): Promise<string> {
  const data = await collectReportData(options);
  const [html, js, css] = await Promise.all(['index.html', 'app.js', 'app.css'].map((f) => readFile(join(options.webDir, f), 'utf8')));
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const safeJs = js!.replace(/<\/script/gi, '<\\/script');
  const safeCss = css!.replace(/<\/style/gi, '<\\/style');
  let out = html!;
  // function replacements: the inlined text may contain `$&`-like sequences
  out = out.replace(/<script type="module"[^>]*src="\.\/app\.js"[^>]*><\/script>/, () => '');
  out = out.replace(/<link rel="stylesheet"[^>]*href="\.\/app\.css"[^>]*>/, () => `<style>\n${safeCss}\n</style>`);
  out = out.replace('<title>keiko runs</title>', () => `<title>keiko report · ${escapeHtml(options.runId)}</title>`);
  out = out.replace('</body>', () => `<script id="keiko-report" type="application/json">${json}</script>\n<script type="module">\n${safeJs}\n</script>\n</body>`);
  if (out.includes('src="./app.js"') || out.includes('href="./app.css"')) throw new Error('report: could not inline the page assets (unexpected index.html layout)');
  return out;
}

/** Writes `buildReport`'s HTML to `out` and returns its size in bytes. */
export async function writeReport(options: ReportOptions & { out: string }): Promise<{ path: string; bytes: number }> {
  const html = await buildReport(options);
  await writeFile(options.out, html);
  return { path: options.out, bytes: Buffer.byteLength(html) };
}

function sampleByReward(rollouts: RolloutView[], count: number): RolloutView[] {
  if (rollouts.length <= count) return rollouts;
  const low = queryRollouts({ rollouts, sort: 'reward_asc', limit: Math.ceil(count / 2) }).items;
  const high = queryRollouts({ rollouts, sort: 'reward_desc', limit: Math.floor(count / 2) }).items;
  const keep = new Set([...low, ...high].map((i) => i.index));
  return rollouts.filter((_, i) => keep.has(i));
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
