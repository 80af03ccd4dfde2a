// `keiko search build/query/open/synth` end to end on a small JSONL corpus, through the real CLI.
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'bin', 'keiko.js');

function keiko(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, out, err }));
  });
}

describe('keiko search CLI', () => {
  it('builds an index from JSONL, queries it, opens and finds in a page', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keiko-search-cli-'));
    const corpus = join(dir, 'mini.jsonl');
    const rows = [
      { id: 'a', title: 'Turing machine', text: 'A Turing machine is a mathematical model of computation with an infinite tape.' },
      { id: 'b', title: 'Lambda calculus', text: 'Lambda calculus expresses computation by function abstraction and application.' },
    ];
    await writeFile(corpus, rows.map((r) => JSON.stringify(r)).join('\n'));
    const out = join(dir, 'idx');
    const build = await keiko(['search', 'build', corpus, '--out', out]);
    expect(build.code, build.err).toBe(0);
    expect(build.out).toMatch(/pages 2 {2}passages 2/);
    const again = await keiko(['search', 'build', corpus, '--out', out]);
    expect(again.out).toContain('already');

    const q = await keiko(['search', 'query', '--index', out, 'infinite', 'tape']);
    expect(q.code).toBe(0);
    expect(q.out).toContain('【0†Turing machine】 https://mini.local/doc/a');

    const json = await keiko(['search', 'query', '--index', out, '--json', 'function']);
    expect(JSON.parse(json.out)).toMatchObject({ results: [{ docId: 'mini:b', rank: 1 }] });

    const open = await keiko(['search', 'open', '--index', out, 'mini:a']);
    expect(open.out).toContain('[viewing lines 1–1 of 1]');
    const find = await keiko(['search', 'open', '--index', out, 'https://mini.local/doc/b', '--find', 'abstraction']);
    expect(find.out).toMatch(/^1 match for "abstraction"/);
  });

  it('fails with exit code 2 and a clear message for user mistakes', { timeout: 60_000 }, async () => {
    const missing = await keiko(['search', 'query', '--index', join(tmpdir(), 'no-index-here'), 'x']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("build one with 'keiko search build'");
    const bad = await keiko(['search', 'build', 'nope.jsonl']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('corpus file not found');
    const src = await keiko(['search', 'build', '--sources', 'foldoc,wikipedia', '--out', join(tmpdir(), 'never')]);
    expect(src.code).toBe(2);
    expect(src.err).toContain("unknown corpus source 'wikipedia'; available: foldoc, jargon, wordnet, gcide, geo");
  });
});
