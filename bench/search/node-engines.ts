/**
 * Node side of the keiko search benchmark: keiko's BM25 index, MiniSearch, FlexSearch and Orama on
 * the same pre-tokenized passages, single-threaded, top-10.
 *
 * Given one engine (what `run.sh` does for the main table), the engine runs alone in this process,
 * as Lucene, tantivy and bm25s do in theirs: per query set, WARMUP_PASSES passes over the set, then
 * TIMED_PASSES timed passes (modelled on the Lucene/tantivy/PISA search-benchmark-game's, which
 * warms up with one pass: see NOTES.md, "Fourth follow-up"). Given
 * several, they run in one process and take turns query by query, in an order shuffled per query:
 * the "interleaved" table, where each engine's working set is evicted from the CPU caches by the
 * others' work between two of its queries.
 * Usage: node --expose-gc --max-old-space-size=16000 --import tsx bench/search/node-engines.ts \
 *          data/builtin.jsonl data/queries.json out.json K1 B [keiko|minisearch|flexsearch|orama|a,b,…]
 */
import { mkdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { create, insertMultiple, search as oramaSearch } from '@orama/orama';
import FlexSearch from 'flexsearch';
import MiniSearch from 'minisearch';
import { Rng } from '../../src/core/rng.js';
import { LocalSearchIndex } from '../../src/search/local-index.js';
import { queryProtocol, readCorpus, readQueries } from './bench-data.js';
import type { EngineResult } from './engine-result.js';

const [corpusPath, queriesPath, outPath, k1s, bs, engineList] = process.argv.slice(2);
const k1 = Number(k1s);
const b = Number(bs);
const engines = (engineList ?? 'keiko,minisearch,flexsearch,orama').split(',');
const { warmupPasses, timedPasses, budgetMs } = queryProtocol();
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const heap = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

const { ids, texts } = await readCorpus(corpusPath!);
const queries = readQueries(queriesPath!);

const results: Record<string, EngineResult> = {};
const searchers: Record<string, (q: string) => string[] | Promise<string[]>> = {};
const version = (pkg: string) => (JSON.parse(readFileSync(join('node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
const base = (engine: string, v: string): EngineResult => ({ engine, version: v, passages: ids.length, buildSeconds: 0, memoryBytes: 0, memoryMethod: 'V8 heap + external delta after gc', diskBytes: null, latency: {}, top10: {}, warmupPasses, timedPasses });

const outDir = dirname(outPath!);
for (const engine of engines) {
  const m0 = heap();
  const t0 = performance.now();
  if (engine === 'keiko') {
    const dir = join(outDir, 'keiko-index');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const built = await LocalSearchIndex.build({
      documents: (function* () {
        for (let i = 0; i < ids.length; i++) yield { id: ids[i]!, url: `p/${ids[i]}`, title: '', text: texts[i]!, site: 'b', links: [] };
      })(),
      dir,
      params: { k1, b },
      passageWords: 1_000_000,
    });
    const r = base('keiko', (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
    r.buildSeconds = (performance.now() - t0) / 1000;
    built.close();
    // Measure the index as a server would hold it: loaded from disk.
    const index = LocalSearchIndex.load(dir);
    r.memoryBytes = index.memoryBytes;
    r.memoryMethod = 'exact bytes of the loaded index arrays (postings, skips, vocabulary, norms, passage and URL tables)';
    r.diskBytes = statSync(join(dir, 'index.bin')).size;
    r.note = `build includes writing the page store (docs.jsonl); index.bin only in diskBytes; RSS-style heap delta ${((heap() - m0) / 2 ** 20).toFixed(0)} MiB`;
    results.keiko = r;
    searchers.keiko = (q) => index.search(q, { k: 10 }).map((h) => ids[h.passage]!);
  } else if (engine === 'minisearch') {
    const ms = new MiniSearch({ fields: ['text'], idField: 'id', tokenize: (s) => s.split(' '), processTerm: (t) => t, searchOptions: { bm25: { k: k1, b, d: 0.5 } } });
    for (let i = 0; i < ids.length; i++) ms.add({ id: ids[i], text: texts[i] });
    const r = base('minisearch', version('minisearch'));
    r.buildSeconds = (performance.now() - t0) / 1000;
    r.memoryBytes = heap() - m0;
    r.note = 'MiniSearch scores with BM25+ (delta 0.5) and returns every match (no top-k pruning); we slice 10';
    results.minisearch = r;
    searchers.minisearch = (q) => ms.search(q).slice(0, 10).map((h) => String(h.id));
  } else if (engine === 'flexsearch') {
    const fx = new FlexSearch.Index({ tokenize: 'strict', encoder: { normalize: false, dedupe: false } as never, resolution: 9 });
    for (let i = 0; i < ids.length; i++) fx.add(i, texts[i]!);
    const r = base('flexsearch', version('flexsearch'));
    r.buildSeconds = (performance.now() - t0) / 1000;
    r.memoryBytes = heap() - m0;
    r.note = 'FlexSearch ranks by term position/resolution, not BM25; suggest:true for OR-like matching';
    results.flexsearch = r;
    searchers.flexsearch = (q) => (fx.search(q, { limit: 10, suggest: true }) as number[]).map((i) => ids[i]!);
  } else if (engine === 'orama') {
    const db = create({ schema: { id: 'string', text: 'string' } as const, components: { tokenizer: { tokenize: (s: string) => s.split(' '), language: 'english', normalizationCache: new Map() } as never } });
    const BATCH = 10_000;
    for (let i = 0; i < ids.length; i += BATCH) {
      const docs = [];
      for (let j = i; j < Math.min(ids.length, i + BATCH); j++) docs.push({ id: ids[j]!, text: texts[j]! });
      await insertMultiple(db, docs, BATCH);
    }
    const r = base('orama', version('@orama/orama'));
    r.buildSeconds = (performance.now() - t0) / 1000;
    r.memoryBytes = heap() - m0;
    r.note = 'Orama BM25 (its own k, b defaults: 1.2 / 0.75)';
    results.orama = r;
    searchers.orama = async (q) => (await oramaSearch(db, { term: q, properties: ['text'], limit: 10, relevance: { k: k1, b, d: 0.5 } })).hits.map((h) => h.id);
  } else throw new Error(`unknown engine ${engine}`);
  console.log(`${engine}: build ${results[engine]!.buildSeconds.toFixed(1)} s, memory ${(results[engine]!.memoryBytes / 2 ** 20).toFixed(0)} MiB`);
}

const names = Object.keys(searchers);
for (const set of ['short', 'long', 'common'] as const) {
  const qs = queries[set];
  // Warm-up, the same for every engine: WARMUP_PASSES passes over the set (V8 compiles a cheap
  // query path only after thousands of calls), within a quarter of the time budget (some peers
  // take seconds per long query).
  for (const n of names) {
    const t0 = performance.now();
    for (let p = 0; p < warmupPasses; p++) for (const q of qs) if (performance.now() - t0 < budgetMs / 4) await searchers[n]!(q);
    results[n]!.latency[set] = [];
    results[n]!.top10[set] = [];
  }
  // Each engine gets at most the time budget per query set for its timed passes; a slow engine
  // stops early and is reported on the queries it answered (the report says how many).
  const spent: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  // Several engines: a seeded shuffle per query, so every engine runs first, and after every other
  // engine, about equally often.
  const rng = new Rng(7).fork(set);
  for (let p = 0; p < timedPasses; p++) {
    for (let i = 0; i < qs.length; i++) {
      for (const n of names.length > 1 ? rng.shuffle(names) : names) {
        if (spent[n]! > budgetMs) continue;
        const s0 = performance.now();
        const top = await searchers[n]!(qs[i]!);
        const ms = performance.now() - s0;
        spent[n]! += ms;
        results[n]!.latency[set]!.push(ms);
        if (p === 0) results[n]!.top10[set]!.push(top);
      }
    }
  }
}
writeFileSync(outPath!, JSON.stringify(Object.values(results)));
