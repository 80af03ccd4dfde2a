// `keiko runs`, `keiko report` and `keiko view` run as real processes through bin/keiko.js.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureRun } from '../../runs/fixture-run.js';

const BIN = resolve('bin/keiko.js');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keiko-cli-dash-'));
  await writeFixtureRun({ runsDir: join(dir, 'runs'), id: 'train-x', steps: 6, startedAt: '2026-11-20T10:00:00.000Z' });
  await writeFixtureRun({ runsDir: join(dir, 'runs'), id: 'eval-y', kind: 'eval', groups: 3, status: 'failed', startedAt: '2026-11-21T10:00:00.000Z' });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const keiko = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir, timeout: 60_000 });

describe('dashboard commands', () => {
  it('keiko runs prints a table, filters, and rejects an unknown status with exit 2', () => {
    const all = keiko('runs', 'runs');
    expect(all.status).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^RUN\s+KIND\s+STATUS\s+ENV\s+MODEL\s+STARTED\s+STEPS\s+ROLLOUTS\s+BEST\s+EVAL$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['eval-y', 'train-x']);
    const failed = keiko('runs', 'runs', '--status', 'failed', '--json');
    expect((JSON.parse(failed.stdout) as { runs: { id: string }[] }).runs.map((r) => r.id)).toEqual(['eval-y']);
    const bad = keiko('runs', 'runs', '--status', 'sleeping');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown status 'sleeping'; available: running, completed, failed, interrupted");
  });

  it('keiko report writes one self-contained HTML file', async () => {
    const res = keiko('report', 'runs/train-x', '-o', 'r.html');
    expect(res.status, res.stderr).toBe(0);
    const html = await readFile(join(dir, 'r.html'), 'utf8');
    expect(html).toContain('<script id="keiko-report" type="application/json">');
    expect(html).not.toMatch(/src="\.\/app\.js"|href="\.\/app\.css"/);
    expect(html).toContain('.uplot'); // uPlot's inlined styles
    const missing = keiko('report', 'nope', '--runs-dir', 'runs');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("unknown run 'nope'");
  });

  it('keiko view serves the API until stopped', async () => {
    const child = spawn(process.execPath, [BIN, 'view', 'runs', '--port', '0'], { cwd: dir });
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /keiko dashboard: (http:\/\/\S+)/.exec(out);
          if (match) resolveUrl(match[1]!);
        });
        child.on('exit', (code) => reject(new Error(`keiko view exited with ${code}`)));
      });
      const body = (await (await fetch(new URL('api/runs', url))).json()) as { runs: { id: string }[] };
      expect(body.runs.map((r) => r.id)).toEqual(['eval-y', 'train-x']);
      expect((await fetch(url)).headers.get('content-type')).toContain('text/html');
    } finally {
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
