/**
 * keiko's query latency on a saved index (5 warm-up queries per set, as node-engines.ts warmed
 * every set before it warmed the whole short set; then every query once, in order, single thread,
 * top-10), without rebuilding the
 * index: for side-by-side runs with LuceneBench (REUSE_INDEX=1) in `run.sh lucene-keiko`.
 * Usage: node --expose-gc --import tsx bench/search/keiko-queries.ts SRC_ROOT INDEX_DIR QUERIES.json
 *   SRC_ROOT: a checkout (or an exported revision) whose src/search/local-index.ts to load.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readQueries } from './bench-data.js';
import { percentile } from './percentile.js';

const [root, dir, queriesPath] = process.argv.slice(2);
if (!queriesPath) throw new Error('usage: keiko-queries.ts SRC_ROOT INDEX_DIR QUERIES.json');
type Index = { search(q: string, o: { k: number }): unknown[] };
const m = (await import(pathToFileURL(resolve(root!, 'src/search/local-index.ts')).href)) as { LocalSearchIndex: { load(d: string): Index } };
const index = m.LocalSearchIndex.load(dir!);
const queries = readQueries(queriesPath);
const out: string[] = [];
for (const set of ['short', 'long', 'common'] as const) {
  const qs = queries[set];
  for (const q of qs.slice(0, 5)) index.search(q, { k: 10 });
  const ms = qs.map((q) => {
    const t0 = performance.now();
    index.search(q, { k: 10 });
    return performance.now() - t0;
  });
  out.push(`${set} p50 ${percentile(ms, 0.5).toFixed(3)} / p99 ${percentile(ms, 0.99).toFixed(2)} ms`);
}
console.log(`keiko (${root}): ${out.join(' | ')}`);
