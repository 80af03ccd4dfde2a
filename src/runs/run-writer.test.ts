import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunManifest } from '../core/run-manifest.js';
import { makeRunId, RunWriter } from './run-writer.js';

const tmp = () => mkdtemp(join(tmpdir(), 'keiko-runs-'));
const readManifest = async (dir: string) => RunManifest.parse(JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')));

describe('RunWriter', () => {
  it('creates a run folder with a valid running manifest, then finishes it', async () => {
    const runsDir = await tmp();
    const now = new Date('2026-05-22T13:45:01Z');
    const run = await RunWriter.create({ runsDir, kind: 'eval', env: 'arithmetic', model: 'm', config: { n: 5 }, now });
    expect(run.id).toBe('20260522-134501-eval-arithmetic');
    let manifest = await readManifest(run.dir);
    expect(manifest).toMatchObject({ status: 'running', kind: 'eval', env: 'arithmetic', model: 'm', config: { n: 5 } });
    await run.appendJsonl('results.jsonl', { a: 1 });
    await run.appendJsonl('results.jsonl', { a: 2 });
    await run.writeJson('metadata.json', { ok: true });
    await run.finish({ status: 'completed', summary: { rollouts: 2, meanReward: 0.5 } });
    manifest = await readManifest(run.dir);
    expect(manifest.status).toBe('completed');
    expect(manifest.summary).toEqual({ rollouts: 2, meanReward: 0.5 });
    expect(manifest.endedAt).toBeDefined();
    expect(await readFile(join(run.dir, 'results.jsonl'), 'utf8')).toBe('{"a":1}\n{"a":2}\n');
    expect(JSON.parse(await readFile(join(run.dir, 'metadata.json'), 'utf8'))).toEqual({ ok: true });
    // Atomic writes leave no temp files behind.
    expect((await readdir(run.dir)).sort()).toEqual(['metadata.json', 'results.jsonl', 'run.json']);
  });

  it('picks a fresh id when the default one is taken, and refuses a taken explicit id', async () => {
    const runsDir = await tmp();
    const now = new Date('2026-05-22T13:45:01Z');
    const a = await RunWriter.create({ runsDir, kind: 'eval', env: './my-env.ts', model: 'm', now });
    const b = await RunWriter.create({ runsDir, kind: 'eval', env: './my-env.ts', model: 'm', now });
    expect(a.id).toBe('20260522-134501-eval-my-env');
    expect(b.id).toBe('20260522-134501-eval-my-env-2');
    await expect(RunWriter.create({ runsDir, kind: 'eval', env: 'x', model: 'm', id: a.id })).rejects.toThrow(/already exists/);
    await expect(RunWriter.create({ runsDir, kind: 'eval', env: 'x', model: 'm', id: '../evil' })).rejects.toThrow(/invalid run id/);
  });

  it('reopens a run to resume it', async () => {
    const runsDir = await tmp();
    const run = await RunWriter.create({ runsDir, kind: 'eval', env: 'e', model: 'm' });
    await run.finish({ status: 'interrupted', error: 'SIGINT' });
    const again = await RunWriter.open({ runsDir, id: run.id });
    const manifest = await readManifest(again.dir);
    expect(manifest.status).toBe('running');
    expect(manifest.error).toBeUndefined();
    await expect(RunWriter.open({ runsDir, id: 'nope' })).rejects.toThrow(/no run 'nope'/);
  });

  it('makes ids from file paths', () => {
    expect(makeRunId({ kind: 'train', env: '/a/b/word game.mts', now: new Date('2026-01-02T03:04:05Z') })).toBe('20260102-030405-train-word-game');
  });
});
