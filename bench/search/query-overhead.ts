/**
 * Before/after check of keiko's per-query cost, side by side in one process: the searcher of an
 * older revision (exported by `run.sh overhead` with `git archive`) and the current one load the
 * same saved index, and MiniSearch is built over the same passages; the query sets run interleaved
 * (rotating order per query) after a warm-up, single thread, top-10 ids + scores. Also compares the
 * two keiko revisions' results: top-10 ids, and scores (exactly and as the largest relative
 * difference: a change in the order of summation moves a score by an ulp or so).
 * Usage: node --expose-gc --import tsx bench/search/query-overhead.ts BEFORE_SRC_ROOT CORPUS.jsonl \
 *          QUERIES.json KEIKO_INDEX_DIR OUT.json K1 B [minisearch]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import MiniSearch from 'minisearch';
import { LocalSearchIndex } from '../../src/search/local-index.js';
import { readCorpus, readQueries } from './bench-data.js';
import { percentile } from './percentile.js';

const [beforeRoot, corpusPath, queriesPath, indexDir, outPath, k1s, bs, peers] = process.argv.slice(2);
if (!outPath) throw new Error('usage: query-overhead.ts BEFORE_SRC_ROOT CORPUS.jsonl QUERIES.json KEIKO_INDEX_DIR OUT.json K1 B [minisearch]');
const ROUNDS = Number(process.env.ROUNDS ?? 3);
// Queries per turn: 1 interleaves engines query by query; a larger chunk lets each engine answer
// that many queries in a row (its own working set stays in the CPU caches, as in a server that
// runs one engine), with a full garbage collection before each turn, while still alternating
// engines within the run.
const CHUNK = Number(process.env.CHUNK ?? 1);
const BUDGET_MS = Number(process.env.QUERY_BUDGET_S ?? 30) * 1000;

type Hit = { passage: number; score: number };
type Searcher = { search(q: string, o: { k: number }): Hit[] };
const beforeModule = (await import(pathToFileURL(join(beforeRoot!, 'src/search/local-index.ts')).href)) as { LocalSearchIndex: { load(dir: string): Searcher } };
const after = LocalSearchIndex.load(indexDir!);
const before = beforeModule.LocalSearchIndex.load(indexDir!);

const { ids, texts } = await readCorpus(corpusPath!);
const queries = readQueries(queriesPath!);

// Every engine returns the top-10 as (id, score) pairs: the same work for all.
type Top = { id: string; score: number }[];
const engines: Record<string, (q: string) => Top> = {
  'keiko-before': (q) => before.search(q, { k: 10 }).map((h) => ({ id: ids[h.passage]!, score: h.score })),
  keiko: (q) => after.search(q, { k: 10 }).map((h) => ({ id: ids[h.passage]!, score: h.score })),
};
if ((peers ?? '').split(',').includes('minisearch')) {
  const t0 = performance.now();
  const ms = new MiniSearch({ fields: ['text'], idField: 'id', tokenize: (s) => s.split(' '), processTerm: (t) => t, searchOptions: { bm25: { k: Number(k1s), b: Number(bs), d: 0.5 } } });
  for (let i = 0; i < ids.length; i++) ms.add({ id: ids[i], text: texts[i] });
  console.log(`minisearch built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  engines.minisearch = (q) => ms.search(q).slice(0, 10).map((h) => ({ id: String(h.id), score: h.score }));
}
texts.length = 0;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
gc();

const out: Record<string, Record<string, { n: number; p50: number; p99: number; mean: number }>> = {};
let mismatches = 0;
let idMismatches = 0;
let maxRelScoreDiff = 0;
const SETS = (process.env.SETS ?? 'short,long,common').split(',') as ('short' | 'long' | 'common')[];
for (const set of SETS) {
  const qs = queries[set];
  // MiniSearch takes 0.3-1 s per long or common-term query (see RESULTS.md): short queries only.
  const names = Object.keys(engines).filter((n) => n.startsWith('keiko') || set === 'short');
  // Warm-up: every engine answers the whole set once, within the time budget.
  const spent: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const n of names) {
    const t0 = performance.now();
    for (const q of qs) if (performance.now() - t0 < BUDGET_MS / 4) engines[n]!(q);
  }
  const lat: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (let c = 0; c * CHUNK < qs.length; c++) {
      const order = [...names.slice((c + r) % names.length), ...names.slice(0, (c + r) % names.length)];
      const tops: Record<string, Top>[] = [];
      for (const n of order) {
        // In blocked mode, collect the previous engine's garbage first, so no engine pays for
        // another's garbage collection.
        if (CHUNK > 1) gc();
        for (let i = c * CHUNK; i < Math.min(qs.length, (c + 1) * CHUNK); i++) {
          if (spent[n]! > BUDGET_MS) continue;
          const t0 = performance.now();
          const top = engines[n]!(qs[i]!);
          const ms = performance.now() - t0;
          spent[n]! += ms;
          lat[n]!.push(ms);
          (tops[i - c * CHUNK] ??= {})[n] = top;
        }
      }
      for (let j = 0; r === 0 && j < tops.length; j++) {
        const now = tops[j]!.keiko ?? [];
        const old = tops[j]!['keiko-before'] ?? [];
        for (let i = 0; i < Math.min(now.length, old.length); i++) maxRelScoreDiff = Math.max(maxRelScoreDiff, Math.abs(now[i]!.score - old[i]!.score) / Math.abs(old[i]!.score));
        if (JSON.stringify(now) === JSON.stringify(old)) continue;
        mismatches++;
        const ids = (t: Top) => t.map((h) => h.id).join();
        if (ids(now) !== ids(old) && ++idMismatches <= 5) console.log(`different top-10 ids on ${set} query '${qs[c * CHUNK + j]}'`);
      }
    }
  }
  out[set] = {};
  for (const n of names) {
    const l = lat[n]!;
    if (l.length === 0) continue;
    out[set][n] = { n: l.length, p50: percentile(l, 0.5), p99: percentile(l, 0.99), mean: l.reduce((a, b) => a + b, 0) / l.length };
  }
  console.log(set, Object.entries(out[set]).map(([n, s]) => `${n}: p50 ${(s.p50 * 1000).toFixed(1)} µs, p99 ${(s.p99 * 1000).toFixed(0)} µs, mean ${(s.mean * 1000).toFixed(1)} µs (${s.n})`).join(' | '));
}
console.log(`keiko vs keiko-before (of ${SETS.reduce((a, s) => a + queries[s].length, 0)} queries): ${idMismatches} with different top-10 ids, ${mismatches} with different ids or scores (largest relative score difference ${maxRelScoreDiff.toExponential(1)})`);
// run.sh exports the old revision into .keiko/bench-before-REV: record which one was compared.
const beforeRev = /bench-before-(\w+)/.exec(beforeRoot!)?.[1] ?? beforeRoot;
writeFileSync(outPath, JSON.stringify({ before: beforeRev, rounds: ROUNDS, chunk: CHUNK, mismatches, idMismatches, maxRelScoreDiff, latencyMs: out }, null, 2));
