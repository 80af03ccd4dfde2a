/**
 * Prints p50 / p99 query latency per query set of engine result files (LuceneBench's JSON object, or
 * the Node/Python drivers' arrays). Usage: npx tsx bench/search/latency-summary.ts FILE...
 */
import { readFileSync } from 'node:fs';
import type { EngineResult } from './engine-result.js';
import { percentile } from './percentile.js';

for (const file of process.argv.slice(2)) {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as EngineResult | EngineResult[];
  for (const r of Array.isArray(parsed) ? parsed : [parsed]) {
    const sets = Object.entries(r.latency).map(([set, ms]) => `${set} p50 ${percentile(ms, 0.5).toFixed(3)} / p99 ${percentile(ms, 0.99).toFixed(2)} ms`);
    console.log(`${r.engine} ${r.version}: ${sets.join(' | ')}`);
  }
}
