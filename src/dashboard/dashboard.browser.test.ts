// End-to-end: the built page in headless Chromium (Debian's `chromium`, driven by playwright-core)
// against a real `startDashboard` server on run folders made here. Screenshots go to test-artifacts/.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFixtureMetrics, writeFixtureRun } from '../runs/fixture-run.js';
import { writeReport } from './report.js';
import { startDashboard, type DashboardServer } from './server.js';
import { ensureWebBuilt } from './web-assets.js';

const ARTIFACTS = resolve('test-artifacts');
const STEPS = 25;

/** The system Chromium: $CHROMIUM_PATH, or Debian's /usr/bin/chromium. */
function findChromium(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`no Chromium found (tried ${candidates.join(', ')}); scripts/test.sh installs Debian's 'chromium' package`);
  return found;
}

let root: string;
let runsDir: string;
let webDir: string;
let server: DashboardServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'keiko-e2e-'));
  runsDir = join(root, 'runs');
  await writeFixtureRun({ runsDir, id: 'grpo-live', steps: STEPS, groups: 2, groupSize: 4, seed: 11, status: 'running', startedAt: '2026-11-21T08:00:00.000Z' });
  await writeFixtureRun({ runsDir, id: 'grpo-done', steps: 40, groups: 2, groupSize: 4, seed: 12, startedAt: '2026-11-20T08:00:00.000Z' });
  await writeFixtureRun({ runsDir, id: 'eval-math', kind: 'eval', groups: 7, groupSize: 4, seed: 13, startedAt: '2026-11-22T08:00:00.000Z' });
  webDir = await ensureWebBuilt();
  server = await startDashboard({ runsDir, webDir, port: 0, pollMs: 100 });
  browser = await chromium.launch({ executablePath: findChromium(), args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await mkdir(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** expect.poll with room for a loaded CI machine (the default gives up after 1 s). */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000, interval: 100 });
const points = (metric: string) => page.locator(`.chart[data-metric="${metric}"]`).getAttribute('data-points');

describe('dashboard in Chromium', () => {
  it('shows the runs table', async () => {
    await page.goto(server.url);
    const rows = page.locator('#runs-table tbody tr');
    await poll(() => rows.count()).toBe(3);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run')))).toEqual(['eval-math', 'grpo-live', 'grpo-done']);
    expect(await page.locator('tr[data-run="grpo-live"] .badge').textContent()).toBe('running');
    await page.fill('#runs-filter', 'grpo');
    await poll(() => rows.count()).toBe(2);
  });

  it('draws training curves with one point per step and updates them live', async () => {
    await page.goto(`${server.url}#/run/grpo-live/curves`);
    await page.locator('.chart[data-metric="reward"] canvas').waitFor();
    expect(await points('reward')).toBe(String(STEPS));
    for (const metric of ['kl', 'clipFraction', 'entropy', 'completionLenMean', 'sampledTokensPerSecond', 'staleness', 'evalReward', 'reward/correct_answer']) {
      expect(await page.locator(`.chart[data-metric="${metric}"]`).count(), metric).toBe(1);
    }
    expect(await points('evalReward')).toBe('3'); // evals at steps 0, 10, 20
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png') });
    // the run writes another step: the page hears it over server-sent events
    await appendFixtureMetrics({ runsDir, id: 'grpo-live', row: { schemaVersion: 1, step: STEPS, time: 400, reward: 1.1, rewardStd: 0.1, kl: 0.05 } });
    await poll(() => points('reward')).toBe(String(STEPS + 1));
    // x axis by time keeps the points; smoothing changes values, not counts
    await page.selectOption('#x-axis', 'time');
    await poll(() => points('reward')).toBe(String(STEPS + 1));
  });

  it('compares two runs on one chart', async () => {
    await page.goto(server.url);
    await page.locator('tr[data-run="grpo-live"] input').check();
    await page.locator('tr[data-run="grpo-done"] input').check();
    await page.click('#compare');
    await page.locator('.chart[data-metric="reward"] canvas').waitFor();
    expect(await points('reward')).toBe('40'); // union of steps 0..39 and 0..25
    expect(await page.locator('.chart[data-metric="reward"] .u-legend .u-series').count()).toBe(3); // x + 2 runs
  });

  it("renders a rollout's turns: assistant text, tool calls, tool results; sorts and searches", async () => {
    await page.goto(`${server.url}#/run/grpo-live/rollouts`);
    await page.locator('.group').first().waitFor();
    expect(await page.locator('#rollout-source').inputValue()).toBe(`rollouts/step-${STEPS - 1}`);
    await page.selectOption('#rollout-source', 'rollouts/step-3');
    await poll(() => page.locator('.rollout').count()).toBe(8);
    const first = page.locator('.rollout').first();
    expect(await first.locator('.msg.assistant').count()).toBeGreaterThan(0);
    const allTurns = page.locator('.rollout .msg');
    expect(await page.locator('.rollout .tool-call').count()).toBeGreaterThan(0);
    expect(await page.locator('.rollout .msg.tool').count()).toBeGreaterThan(0);
    expect(await allTurns.count()).toBeGreaterThan(8);
    expect(await page.locator('.group .prompt .msg.user').first().textContent()).toMatch(/What is \d+ \* \d+\?/);
    await page.selectOption('#rollout-sort', 'reward_asc');
    await poll(async () => {
      const rewards = await page.locator('.rollout .reward').allTextContents();
      const values = rewards.map((t) => Number(t.replace('reward ', '')));
      return values.length === 8 && values.every((v, i) => i === 0 || values[i - 1]! <= v);
    }).toBe(true);
    await page.fill('#rollout-search', 'no such text anywhere');
    await poll(() => page.locator('.rollout').count()).toBe(0);
    await page.fill('#rollout-search', '');
    await poll(() => page.locator('.rollout').count()).toBe(8);
    await page.locator('.rollout').first().evaluate((el) => el.scrollIntoView());
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-rollouts.png') });
  });

  it("shows eval results per example with pass@k and opens an example's rollouts", async () => {
    await page.goto(`${server.url}#/run/eval-math/eval`);
    await page.locator('#eval-table tbody tr').first().waitFor();
    expect(await page.locator('#eval-table tbody tr').count()).toBe(7);
    expect(await page.locator('#eval-table thead th').allTextContents()).toEqual(expect.arrayContaining(['pass@1', 'pass@2', 'pass@4']));
    expect(await page.locator('.stat[data-k="4"] span').textContent()).toBe('pass@4');
    // clicking an example opens its rollouts; environment replies show as their own turns
    await page.locator('#eval-table tbody tr').first().click();
    await page.locator('.rollout').first().waitFor();
    expect(await page.locator('#rollout-search').inputValue()).toBe('ex0');
    await page.fill('#rollout-search', 'please put your final answer');
    await poll(() => page.locator('.rollout .msg.user.env').count()).toBeGreaterThan(0);
  });

  it('opens a static report from disk with no server and no network', async () => {
    const out = join(root, 'report.html');
    await writeReport({ runsDir, runId: 'grpo-done', webDir, out });
    const requests: string[] = [];
    const offline = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    offline.on('request', (r) => requests.push(r.url()));
    offline.on('pageerror', (e) => pageErrors.push(`report: ${e.message}`));
    await offline.goto(pathToFileURL(out).href);
    await offline.locator('.chart[data-metric="reward"] canvas').waitFor();
    expect(await offline.locator('.chart[data-metric="reward"]').getAttribute('data-points')).toBe('40');
    await offline.click('.tabs a:has-text("Rollouts")');
    await offline.locator('.rollout .msg.assistant').first().waitFor();
    expect(requests.every((u) => u.startsWith('file:') || u.startsWith('data:'))).toBe(true);
    await offline.close();
  });

  it('raised no errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
