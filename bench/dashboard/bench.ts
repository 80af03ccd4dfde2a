// Dashboard load benchmark: a training run with 1,000 steps and 10,000 rollouts, an eval run with
// 10,000 rollouts in one results.jsonl, and a runs folder with 1,000 runs. Measures the API (cold =
// first read after the server starts, warm = cached) and the page in headless Chromium, against the
// issue's 2 s budget. Run: npx tsx bench/dashboard/bench.ts [--reps 5]
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startDashboard } from '../../src/dashboard/server.js';
import { ensureWebBuilt } from '../../src/dashboard/web-assets.js';
import { writeFixtureRun } from '../../src/runs/fixture-run.js';
import { RunStore } from '../../src/runs/run-store.js';

const reps = Number(process.argv[process.argv.indexOf('--reps') + 1] || 5) || 5;
const BUDGET_MS = 2000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

const loadBefore = loadavg()[0]!;
const root = await mkdtemp(join(tmpdir(), 'keiko-bench-dash-'));
const big = join(root, 'big');
const many = join(root, 'many');
console.log(`generating fixtures in ${root}…`);
let [ms] = await time(() => writeFixtureRun({ runsDir: big, id: 'train-1000x10', steps: 1000, groups: 2, groupSize: 5, evalEvery: 50, seed: 1 }));
console.log(`  train run: 1,000 steps x 10 rollouts in ${(ms / 1000).toFixed(1)} s`);
[ms] = await time(() => writeFixtureRun({ runsDir: big, id: 'eval-10000', kind: 'eval', groups: 1250, groupSize: 8, seed: 2 }));
console.log(`  eval run: 10,000 rollouts in one results.jsonl in ${(ms / 1000).toFixed(1)} s`);
[ms] = await time(async () => {
  for (let i = 0; i < 1000; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => writeFixtureRun({ runsDir: many, id: `run-${String(i + j).padStart(4, '0')}`, kind: 'eval', groups: 1, groupSize: 2, seed: i + j, startedAt: new Date(Date.UTC(2026, 0, 1) + (i + j) * 60_000).toISOString() })));
  }
});
console.log(`  runs folder: 1,000 runs in ${(ms / 1000).toFixed(1)} s`);

const webDir = await ensureWebBuilt();
const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].find((p) => p && existsSync(p));
if (!executablePath) throw new Error('no chromium; install Debian chromium or set CHROMIUM_PATH');
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });

interface Row {
  what: string;
  cold: number[];
  warm: number[];
}
const rows = new Map<string, Row>();
const record = (what: string, kind: 'cold' | 'warm', value: number) => {
  const row = rows.get(what) ?? { what, cold: [], warm: [] };
  row[kind].push(value);
  rows.set(what, row);
};

for (let rep = 0; rep < reps; rep++) {
  // scan: a fresh index is cold, a rescan of unchanged runs is warm
  const store = new RunStore({ runsDir: many });
  record('runs list, 1,000 runs (RunStore.listRuns)', 'cold', (await time(() => store.listRuns()))[0]);
  record('runs list, 1,000 runs (RunStore.listRuns)', 'warm', (await time(() => store.listRuns()))[0]);

  const server = await startDashboard({ runsDir: big, webDir, port: 0 });
  const api = async (what: string, path: string) => {
    for (const kind of ['cold', 'warm'] as const) {
      const [t, res] = await time(() => fetch(new URL(path, server.url)));
      const body = await res.text();
      if (!res.ok) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
      record(what, kind, t);
    }
  };
  await api('GET run detail (1,000 rollout files listed)', 'api/runs/train-1000x10');
  await api('GET metrics, 1,000 steps', 'api/runs/train-1000x10/metrics');
  await api('GET rollouts of one step, page 1', 'api/runs/train-1000x10/rollouts?step=999');
  await api('GET 10,000-rollout results.jsonl, page 1', 'api/runs/eval-10000/rollouts?source=results&limit=20');
  await api('  …sorted by lowest reward', 'api/runs/eval-10000/rollouts?source=results&sort=reward_asc&limit=20');
  await api('  …errors only', 'api/runs/eval-10000/rollouts?source=results&errors=1&limit=20');
  await api('  …text search', 'api/runs/eval-10000/rollouts?source=results&q=please%20put&limit=20');
  await api('GET eval pass@k over 10,000 rollouts', 'api/runs/eval-10000/eval?source=results');

  // page: navigation until every chart of 1,000 points is drawn (cold server: first metrics read)
  await server.close();
  const fresh = await startDashboard({ runsDir: big, webDir, port: 0 });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  for (const kind of ['cold', 'warm'] as const) {
    const [t] = await time(async () => {
      await page.goto(`${fresh.url}#/run/train-1000x10/curves`);
      await page.locator('.chart[data-metric="reward"][data-points="1000"]').waitFor();
      await page.locator('.chart[data-metric="stepSeconds"] canvas').waitFor();
    });
    record('page: curves of 1,000 steps drawn (all charts)', kind, t);
  }
  for (const kind of ['cold', 'warm'] as const) {
    const [t] = await time(async () => {
      await page.goto(`${fresh.url}#/run/eval-10000/rollouts?source=results`);
      await page.locator('.rollout .msg.assistant').first().waitFor();
    });
    record('page: rollout viewer on 10,000-rollout results', kind, t);
    await page.goto('about:blank');
  }
  const charts = await (async () => {
    await page.goto(`${fresh.url}#/run/train-1000x10/curves`);
    await page.locator('.chart[data-metric="reward"][data-points="1000"]').waitFor();
    return page.locator('.chart').count();
  })();
  if (rep === 0) console.log(`  page draws ${charts} charts of 1,000 points`);
  await page.close();
  await fresh.close();
}
await browser.close();

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const lines = [...rows.values()].map((r) => {
  const cold = median(r.cold);
  const warm = median(r.warm);
  return `| ${r.what} | ${fmt(cold)} | ${fmt(warm)} | ${(cold / BUDGET_MS).toFixed(3)} | ${cold <= BUDGET_MS ? 'yes' : '**no**'} |`;
});
const table = ['| what | cold ms (median) | warm ms (median) | cold / 2 s budget | within 2 s |', '| --- | ---: | ---: | ---: | :---: |', ...lines].join('\n');
console.log(table);
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const results = `# Dashboard load benchmark

Reproduce: \`npx tsx bench/dashboard/bench.ts --reps ${reps}\` (needs the system \`chromium\`; builds the page if missing).

Fixtures (made by \`writeFixtureRun\`, seeded): a training run with **1,000 steps and 10,000 rollouts**
(10 per step, multi-turn tool calls, one \`rollouts/step-N.jsonl\` per step, evals every 50 steps), an
eval run with **10,000 rollouts in one \`results.jsonl\`** (${'1,250'} examples x 8 samples), and a runs
folder with **1,000 runs**. Medians of ${reps} repetitions on ${cpus().length} x ${cpu}, Node ${process.version};
1-minute load average ${loadBefore.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end (the machine was shared
with other jobs, so absolute times are pessimistic).
*cold* = first request after the server (or \`RunStore\`) starts, nothing cached; *warm* = the same
request again (files cached by mtime + size); for the indented rows the file is already parsed by
the row above, so their *cold* is the first run of that query on a parsed file. Page times are navigation until the last chart (or the
first rollout's turns) is in the DOM, in headless Chromium, including the API calls they make.
There is no peer dashboard to run offline side by side, so the comparison is against the issue's
2 s budget (ratio column) and cold against warm.

${table}
`;
await writeFile(join(import.meta.dirname, 'RESULTS.md'), results);
await rm(root, { recursive: true, force: true });
console.log('wrote bench/dashboard/RESULTS.md');
