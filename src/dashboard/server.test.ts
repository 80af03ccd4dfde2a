import { request } from 'node:http';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFixtureMetrics, writeFixtureRun } from '../runs/fixture-run.js';
import { startDashboard, type DashboardServer } from './server.js';

let root: string;
let server: DashboardServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'keiko-dash-'));
  const runsDir = join(root, 'runs');
  const webDir = join(root, 'web');
  await mkdir(webDir, { recursive: true });
  await writeFile(join(webDir, 'index.html'), '<!doctype html><title>test page</title>');
  await writeFile(join(root, 'secret.txt'), 'do not serve');
  await writeFixtureRun({ runsDir, id: 'train-a', steps: 30, groups: 3, groupSize: 4, seed: 1, startedAt: '2026-11-20T10:00:00.000Z' });
  await writeFixtureRun({ runsDir, id: 'eval-b', kind: 'eval', groups: 6, groupSize: 4, seed: 2, startedAt: '2026-11-21T10:00:00.000Z' });
  await writeFixtureRun({ runsDir, id: 'live-c', steps: 3, status: 'running', seed: 3, startedAt: '2026-11-19T10:00:00.000Z' });
  await writeFixtureRun({ runsDir, id: 'torn-d', steps: 4, corrupt: true, status: 'interrupted', seed: 4, startedAt: '2026-11-18T10:00:00.000Z' });
  await symlink(join(root, 'secret.txt'), join(runsDir, 'train-a', 'leak.txt'));
  server = await startDashboard({ runsDir, webDir, port: 0, pollMs: 50 });
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

/** GET with the path sent as-is (no URL normalisation), so traversal attempts reach the server. */
function get(path: string, method = 'GET'): Promise<{ status: number; type: string; text: string; json: () => Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text, json: () => JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard API', () => {
  it('lists runs with status, env, model, start time and best reward, and filters them', async () => {
    const res = await get('/api/runs');
    expect(res.status).toBe(200);
    const body = res.json() as { runs: { id: string; status: string; env: string; model: string; startedAt: string; bestReward?: number }[] };
    expect(body.runs.map((r) => r.id)).toEqual(['eval-b', 'train-a', 'live-c', 'torn-d']);
    expect(body.runs[1]).toMatchObject({ status: 'completed', env: 'tool-arithmetic', model: 'keiko/tiny-random', startedAt: '2026-11-20T10:00:00.000Z' });
    expect(typeof body.runs[1]!.bestReward).toBe('number');
    const running = (await get('/api/runs?status=running')).json() as { runs: { id: string }[] };
    expect(running.runs.map((r) => r.id)).toEqual(['live-c']);
    const searched = (await get('/api/runs?kind=train&q=TORN')).json() as { runs: { id: string }[] };
    expect(searched.runs.map((r) => r.id)).toEqual(['torn-d']);
  });

  it('describes a run', async () => {
    const body = (await get('/api/runs/train-a')).json() as { rolloutSteps: number[]; evalSources: string[]; manifest: { kind: string } };
    expect(body.manifest.kind).toBe('train');
    expect(body.rolloutSteps).toHaveLength(30);
    expect(body.evalSources).toEqual(['evals/step-0', 'evals/step-10', 'evals/step-20']);
  });

  it('serves metrics, all of them or since a step', async () => {
    const all = (await get('/api/runs/train-a/metrics')).json() as { rows: { step: number; reward: number; kl: number }[] };
    expect(all.rows.map((r) => r.step)).toEqual([...Array(30).keys()]);
    expect(typeof all.rows[0]!.kl).toBe('number');
    const since = (await get('/api/runs/train-a/metrics?since=25')).json() as { rows: { step: number }[] };
    expect(since.rows.map((r) => r.step)).toEqual([25, 26, 27, 28, 29]);
  });

  it('pages rollouts and filters by step, reward order, errors and text', async () => {
    const p1 = (await get('/api/runs/train-a/rollouts?step=7&limit=5')).json() as { total: number; items: { index: number; rollout: { reward: number } }[] };
    const p2 = (await get('/api/runs/train-a/rollouts?source=rollouts%2Fstep-7&limit=5&offset=5')).json() as typeof p1;
    expect(p1.total).toBe(12);
    expect(p1.items.map((i) => i.index)).toEqual([0, 1, 2, 3, 4]);
    expect(p2.items.map((i) => i.index)).toEqual([5, 6, 7, 8, 9]);
    // token-level turns are left out of listings unless asked for
    expect(p1.items.every((i) => !('turns' in i.rollout))).toBe(true);
    const withTurns = (await get('/api/runs/train-a/rollouts?step=7&limit=2&turns=1')).json() as { items: { rollout: { turns: { completion: { role: string } }[] } }[] };
    expect(withTurns.items[0]!.rollout.turns.length).toBeGreaterThan(0);
    expect(withTurns.items[0]!.rollout.turns[0]!.completion.role).toBe('assistant');
    const high = (await get('/api/runs/train-a/rollouts?step=7&sort=reward_desc&limit=50')).json() as typeof p1;
    const rewards = high.items.map((i) => i.rollout.reward);
    expect(rewards).toEqual([...rewards].sort((a, b) => b - a));
    const search = (await get('/api/runs/eval-b/rollouts?source=results&q=ex3&limit=50')).json() as { total: number; items: { rollout: { exampleId: string } }[] };
    expect(search.total).toBe(4);
    expect(new Set(search.items.map((i) => i.rollout.exampleId))).toEqual(new Set(['ex3']));
    // errors only: over all steps, exactly the rollouts with an error come back (the fixture errs ~3%)
    let errored = 0;
    for (let step = 0; step < 30; step++) {
      const all = (await get(`/api/runs/train-a/rollouts?step=${step}&limit=500`)).json() as { items: { index: number; rollout: { error?: unknown } }[] };
      const only = (await get(`/api/runs/train-a/rollouts?step=${step}&errors=1&limit=500`)).json() as typeof all;
      expect(only.items.map((i) => i.index)).toEqual(all.items.filter((i) => i.rollout.error !== undefined).map((i) => i.index));
      errored += only.items.length;
    }
    expect(errored).toBeGreaterThan(0);
  });

  it('computes eval pass@k per example', async () => {
    const body = (await get('/api/runs/eval-b/eval?source=results&threshold=1')).json() as { summary: { ks: number[]; examples: { n: number; passed: number; passAtK: Record<string, number> }[] } };
    expect(body.summary.ks).toEqual([1, 2, 4]);
    expect(body.summary.examples).toHaveLength(6);
    for (const e of body.summary.examples) expect(e.passAtK['1']).toBeCloseTo(e.passed / e.n, 12);
  });

  it('skips corrupt and torn lines with a warning instead of failing', async () => {
    const metrics = (await get('/api/runs/torn-d/metrics')).json() as { rows: unknown[]; skipped: number; warnings: string[] };
    expect(metrics.rows).toHaveLength(4);
    expect(metrics.skipped).toBe(3);
    expect(metrics.warnings.some((w) => w.includes('torn last line'))).toBe(true);
    const rollouts = (await get('/api/runs/torn-d/rollouts?step=0')).json() as { total: number; skipped: number };
    expect(rollouts).toMatchObject({ total: 8, skipped: 2 });
  });

  it('answers bad parameters with 400 JSON', async () => {
    for (const path of [
      '/api/runs/train-a/rollouts?step=-1',
      '/api/runs/train-a/rollouts?step=abc',
      '/api/runs/train-a/rollouts?step=1&limit=0',
      '/api/runs/train-a/rollouts?step=1&limit=100000',
      '/api/runs/train-a/rollouts?step=1&sort=sideways',
      '/api/runs/train-a/rollouts?step=1&bogus=1',
      '/api/runs/train-a/rollouts',
      '/api/runs/train-a/rollouts?step=1&source=results',
      '/api/runs/train-a/rollouts?source=..%2F..%2Fsecret',
      '/api/runs/train-a/metrics?since=x',
      '/api/runs?status=sleeping',
      '/api/runs/%E0%A4%A',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.type).toContain('application/json');
      expect((res.json().error as { code: string }).code).toBe('bad_request');
    }
  });

  it('answers unknown runs, sources and routes with 404 JSON', async () => {
    for (const path of ['/api/runs/nope', '/api/runs/nope/metrics', '/api/runs/train-a/rollouts?step=999', '/api/runs/eval-b/eval?source=evals%2Fmissing', '/api/nothing', '/no-such-page.js']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect((res.json().error as { code: string }).code).toBe('not_found');
    }
    expect((await get('/api/runs', 'POST')).status).toBe(405);
  });

  it('serves only files inside the runs dir and the page folder', async () => {
    expect((await get('/')).text).toContain('test page');
    const config = await get('/api/runs/train-a/files/config.json');
    expect(config.status).toBe(200);
    expect(config.json().env).toBe('tool-arithmetic');
    for (const path of [
      '/../secret.txt',
      '/..%2Fsecret.txt',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/api/runs/..%2F..%2Fetc/metrics',
      '/api/runs/..',
      '/api/runs/train-a/files/..%2F..%2Fsecret.txt',
      '/api/runs/train-a/files/%2Fetc%2Fpasswd',
      '/api/runs/train-a/files/leak.txt',
    ]) {
      const res = await get(path);
      expect([400, 403, 404], path).toContain(res.status);
      expect(res.text, path).not.toContain('do not serve');
      expect(res.text, path).not.toContain('root:');
    }
  });

  it('streams an update event when a running run writes metrics', async () => {
    const events: string[] = [];
    const req = request({ host: '127.0.0.1', port: server.port, path: '/api/runs/live-c/events' });
    const got = new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        expect(res.headers['content-type']).toContain('text/event-stream');
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          for (const block of chunk.split('\n\n')) if (block.startsWith('event: update')) events.push(block);
          if (events.length === 1) void appendFixtureMetrics({ runsDir: server.store.runsDir, id: 'live-c', row: { schemaVersion: 1, step: 3, time: 40, reward: 0.9 } });
          if (events.length >= 2) resolve();
        });
      });
      req.on('error', reject);
    });
    req.end();
    await got;
    req.destroy();
    const rows = ((await get('/api/runs/live-c/metrics?since=3')).json() as { rows: { step: number }[] }).rows;
    expect(rows.map((r) => r.step)).toEqual([3]);
    expect((await get('/api/runs/nope/events')).status).toBe(404);
  });
});
