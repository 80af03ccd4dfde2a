import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import type { SearchDocument } from './corpus/document.js';
import { readJsonlCorpus } from './corpus/jsonl-source.js';
import { readParquetCorpus } from './corpus/parquet-source.js';
import { LocalSearchIndex } from './local-index.js';

const docs: SearchDocument[] = [
  { id: 'a', url: 'https://t.local/a', title: 'Aardvark', text: 'The aardvark is a burrowing mammal native to Africa.', site: 't', links: [] },
  { id: 'b', url: 'https://t.local/b', title: 'Badger', text: 'Badgers are short-legged omnivores. They dig burrows.', site: 't', links: [{ text: 'burrows', url: 'https://t.local/a' }] },
  { id: 'c', url: 'https://t.local/c', title: 'Camel', text: Array.from({ length: 300 }, (_, i) => `camel${i % 7} desert`).join(' ') + ' oasis', site: 't', links: [] },
];

describe('LocalSearchIndex', () => {
  it('finds known items and splits long pages into passages', async () => {
    const idx = await LocalSearchIndex.build({ documents: docs });
    expect(idx.info.documents).toBe(3);
    expect(idx.info.passages).toBeGreaterThan(3);
    expect((await idx.searchPassages('aardvark mammal', { k: 1 }))[0]!.url).toBe('https://t.local/a');
    const oasis = (await idx.searchPassages('oasis', { k: 1 }))[0]!;
    expect(oasis.docId).toBe('c');
    expect(docs[2]!.text.slice(oasis.start, oasis.end)).toContain('oasis');
    expect(oasis.start).toBeGreaterThan(0);
    expect(await idx.getDocument({ url: 'https://t.local/b' })).toMatchObject({ title: 'Badger' });
    expect(await idx.getDocument({ id: 'zzz' })).toBeUndefined();
  });

  it('persists and reloads with identical results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-idx-'));
    const built = await LocalSearchIndex.build({ documents: docs, dir, params: { k1: 1.5, b: 0.6 } });
    const loaded = LocalSearchIndex.load(dir);
    expect(loaded.manifest.params).toEqual({ k1: 1.5, b: 0.6 });
    for (const q of ['burrow dig', 'camel3 desert', 'badger africa mammal']) {
      expect(loaded.search(q, { k: 5 })).toEqual(built.search(q, { k: 5 }));
    }
    expect(await loaded.getDocument({ id: 'b' })).toEqual(docs[1]);
    expect(loaded.docIndex({ url: 'https://t.local/c' })).toBe(2);
    loaded.close();
    built.close();
  });

  it('rejects duplicate urls and missing or corrupt indexes with clear errors', async () => {
    await expect(LocalSearchIndex.build({ documents: [docs[0]!, { ...docs[1]!, url: docs[0]!.url }] })).rejects.toThrow(/duplicate document url/);
    expect(() => LocalSearchIndex.load(join(tmpdir(), 'no-such-index'))).toThrow(ConfigError);
    const dir = mkdtempSync(join(tmpdir(), 'keiko-idx-'));
    await LocalSearchIndex.build({ documents: docs, dir });
    writeFileSync(join(dir, 'manifest.json'), readFileSync(join(dir, 'manifest.json'), 'utf8').replace('"keiko-bm25"', '"other"'));
    expect(() => LocalSearchIndex.load(dir)).toThrow(/invalid index manifest/);
  });

  it('ingests JSONL and Parquet dumps in FlashRAG shapes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-dump-'));
    const jsonl = join(dir, 'wiki.jsonl');
    writeFileSync(jsonl, ['{"id": "1", "contents": "\\"Alan Turing\\"\\nAlan Turing was a mathematician."}', '', '{"id": 2, "title": "Enigma", "text": "A cipher machine."}'].join('\n'));
    const fromJsonl = [];
    for await (const d of readJsonlCorpus({ path: jsonl })) fromJsonl.push(d);
    expect(fromJsonl).toEqual([
      { id: 'wiki:1', url: 'https://wiki.local/doc/1', title: 'Alan Turing', text: 'Alan Turing was a mathematician.', site: 'wiki', links: [] },
      { id: 'wiki:2', url: 'https://wiki.local/doc/2', title: 'Enigma', text: 'A cipher machine.', site: 'wiki', links: [] },
    ]);
    writeFileSync(join(dir, 'bad.jsonl'), '{"id": 1, "contents": 5}\n');
    await expect(async () => {
      for await (const _ of readJsonlCorpus({ path: join(dir, 'bad.jsonl') })) void _;
    }).rejects.toThrow(/bad.jsonl:1/);

    const pq = join(dir, 'psgs.parquet');
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ['10', '11', '12'], type: 'STRING' },
        { name: 'contents', data: ['"Ada"\nAda Lovelace wrote programs.', '"Babbage"\nDesigned engines.', '"Bletchley"\nCodebreakers.'], type: 'STRING' },
      ],
    });
    writeFileSync(pq, new Uint8Array(buf));
    const fromPq = [];
    for await (const d of readParquetCorpus({ path: pq, batchRows: 2 })) fromPq.push(d);
    expect(fromPq.map((d) => [d.id, d.title, d.text])).toEqual([
      ['psgs:10', 'Ada', 'Ada Lovelace wrote programs.'],
      ['psgs:11', 'Babbage', 'Designed engines.'],
      ['psgs:12', 'Bletchley', 'Codebreakers.'],
    ]);
    const idx = await LocalSearchIndex.build({ documents: readParquetCorpus({ path: pq }) });
    expect((await idx.searchPassages('lovelace', { k: 1 }))[0]!.title).toBe('Ada');
  });
});
