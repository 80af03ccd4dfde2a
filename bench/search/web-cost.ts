/**
 * The server's work per request without HTTP: the HTTP bench's request mix (3 searches with JSON
 * encoding of the page : 1 open) straight into `SearchWeb`, for revision BEFORE (exported sources)
 * and this checkout, on the same index, in blocked turns of 200 requests alternating between the
 * two (one process, one thread). Isolates the app-level cost (ranking, page reads, snippets) from
 * the HTTP stack and the load generator.
 * Usage: node --import tsx bench/search/web-cost.ts BEFORE_SRC_ROOT INDEX_DIR [ROUNDS]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_OPENS, readQueries } from './bench-data.js';
import { percentile } from './percentile.js';

type Web = { search(o: { query: string }): Promise<unknown>; open(o: { url: string; line: number }): Promise<unknown> };
const [beforeRoot, dir, roundsArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: web-cost.ts BEFORE_SRC_ROOT INDEX_DIR [ROUNDS]');
const rounds = Number(roundsArg ?? 16);

async function load(root: string): Promise<Web> {
  const li = (await import(pathToFileURL(resolve(root, 'src/search/local-index.ts')).href)) as { LocalSearchIndex: { load(d: string): unknown } };
  const sw = (await import(pathToFileURL(resolve(root, 'src/search/web/search-web.ts')).href)) as { SearchWeb: new (b: unknown) => Web };
  return new sw.SearchWeb(li.LocalSearchIndex.load(dir!));
}
const webs: Record<string, Web> = { before: await load(beforeRoot!), now: await load('.') };
const queries = readQueries(resolve(import.meta.dirname, 'data', 'queries.json'));
const pool = [...queries.short, ...queries.long];
const opens = BENCH_OPENS;
const request = (w: Web, i: number) => (i % 4 === 3 ? w.open({ url: opens[i % opens.length]!, line: 1 }).then(JSON.stringify) : w.search({ query: pool[i % pool.length]! }).then(JSON.stringify));

for (const n of Object.keys(webs)) for (let i = 0; i < 400; i++) await request(webs[n]!, i); // warm-up
const lat: Record<string, number[]> = { before: [], now: [] };
let next = 0;
for (let r = 0; r < rounds; r++) {
  for (const n of r % 2 ? ['now', 'before'] : ['before', 'now']) {
    for (let i = next; i < next + 200; i++) {
      const t0 = performance.now();
      await request(webs[n]!, i);
      lat[n]!.push(performance.now() - t0);
    }
  }
  next += 200;
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
for (const n of ['before', 'now']) console.log(`${n}: mean ${mean(lat[n]!).toFixed(3)} ms/request, p50 ${percentile(lat[n]!, 0.5).toFixed(3)}, p99 ${percentile(lat[n]!, 0.99).toFixed(2)} ms (${lat[n]!.length} requests)`);
console.log(`now / before (mean): ${(mean(lat.now!) / mean(lat.before!)).toFixed(3)}`);
