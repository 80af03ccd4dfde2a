import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/index.js';
import { buildDataset } from './dataset.js';
import { loadDatasetFile, loadJsonl, loadParquet } from './dataset-files.js';
import { splitDataset } from './dataset-split.js';

const fixture = (name: string) => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));

describe('buildDataset', () => {
  it('maps columns, keeps the rest as info, and numbers rows without ids', () => {
    const ds = buildDataset({ rows: [{ q: 'hi', a: 1, source: 'x' }], columns: { question: 'q', answer: 'a' } });
    expect(ds).toEqual([{ id: 0, prompt: [{ role: 'user', content: 'hi' }], answer: 1, info: { source: 'x' } }]);
  });

  it('accepts ready-made examples with prompt messages, tasks and info objects', () => {
    const ds = buildDataset({
      rows: [{ id: 'e1', task: 'math', prompt: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Q' }], info: { k: 1 } }],
      fewShot: [{ role: 'user', content: 'q0' }, { role: 'assistant', content: 'a0' }],
      systemPrompt: 'ignored when the row has one',
    });
    expect(ds[0]!.id).toBe('e1');
    expect(ds[0]!.task).toBe('math');
    expect(ds[0]!.info).toEqual({ k: 1 });
    expect(ds[0]!.prompt.map((m) => m.content)).toEqual(['S', 'q0', 'a0', 'Q']);
  });

  it('a string prompt column becomes one user message', () => {
    expect(buildDataset({ rows: [{ prompt: 'hello' }] })[0]!.prompt).toEqual([{ role: 'user', content: 'hello' }]);
  });

  it('names the missing column and the available ones', () => {
    expect(() => buildDataset({ rows: [{ text: 'x' }] })).toThrow(
      /has neither a 'prompt' nor a 'question' column; columns: text. Set columns.question/,
    );
    expect(() => buildDataset({ rows: [{ text: 'x' }], columns: { question: 'text', answer: 'label' } })).toThrow(
      /no column 'label' \(columns.answer\); columns: text/,
    );
    expect(() => buildDataset({ rows: [{ question: 3 }] })).toThrow(/column 'question' must be a string, got number/);
    expect(() => buildDataset({ rows: [{ prompt: [{ role: 'robot', content: 'x' }] }] })).toThrow(ConfigError);
    expect(() => buildDataset({ rows: [{ question: 'x' }], columns: { info: ['nope'] } })).toThrow(/no column 'nope' \(columns.info\)/);
  });
});

describe('dataset files', () => {
  it('reads JSONL and reports a bad line with its number', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keiko-ds-'));
    const good = join(dir, 'good.jsonl');
    await writeFile(good, '{"question":"a","answer":1}\n\n{"question":"b","answer":2}\n');
    expect(await loadJsonl({ path: good })).toEqual([{ question: 'a', answer: 1 }, { question: 'b', answer: 2 }]);
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"question":"a"}\n{oops\n');
    await expect(loadJsonl({ path: bad })).rejects.toThrow(/bad.jsonl:2: not a JSON object/);
    await expect(loadJsonl({ path: join(dir, 'missing.jsonl') })).rejects.toThrow(ConfigError);
    await expect(loadDatasetFile({ path: join(dir, 'x.csv') })).rejects.toThrow(/use .jsonl, .json or .parquet/);
  });

  it('reads Parquet (INT64 becomes number) and maps its columns', async () => {
    const rows = await loadParquet({ path: fixture('qa.parquet') });
    expect(rows[1]).toEqual({ q: '7*6', a: 42, source: 'synthetic' });
    const ds = buildDataset({ rows, columns: { question: 'q', answer: 'a' }, systemPrompt: 'S' });
    expect(ds).toHaveLength(3);
    expect(ds[2]).toMatchObject({ answer: 0, info: { source: 'trivia' } });
    expect(ds[2]!.prompt).toEqual([{ role: 'system', content: 'S' }, { role: 'user', content: 'capital of France' }]);
    const only = await loadDatasetFile({ path: fixture('qa.parquet') });
    expect(only).toHaveLength(3);
    await expect(loadParquet({ path: fixture('../dataset.ts') })).rejects.toThrow(/not a readable Parquet file/);
  });
});

describe('splitDataset', () => {
  it('splits reproducibly, without overlap', () => {
    const rows = Array.from({ length: 100 }, (_, i) => i);
    const a = splitDataset({ rows, evalFraction: 0.1, seed: 1 });
    expect(a.eval).toHaveLength(10);
    expect(a.train).toHaveLength(90);
    expect(new Set([...a.eval, ...a.train]).size).toBe(100);
    expect(splitDataset({ rows, evalFraction: 0.1, seed: 1 })).toEqual(a);
    expect(splitDataset({ rows, evalSize: 5, shuffle: false }).eval).toEqual([0, 1, 2, 3, 4]);
    expect(() => splitDataset({ rows })).toThrow(/exactly one of evalFraction or evalSize/);
    expect(() => splitDataset({ rows, evalSize: 101 })).toThrow(ConfigError);
  });
});
