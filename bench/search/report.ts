/** Merges the benchmark JSON files under bench/search/data into bench/search/RESULTS.md. */
import { cpus } from 'node:os';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineResult } from './engine-result.js';
import { percentile } from './percentile.js';

const here = import.meta.dirname;
const data = join(here, 'data');
const sets = ['short', 'long', 'common'] as const;
const queries = JSON.parse(readFileSync(join(data, 'queries.json'), 'utf8')) as Record<(typeof sets)[number], string[]>;
const pct = (xs: number[], p: number) => percentile(xs, p / 100);
const fmt = (ms: number) => (ms < 0.1 ? ms.toFixed(4) : ms < 1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
function overlap(a: EngineResult, ref: EngineResult): number {
  let sum = 0;
  let n = 0;
  for (const s of sets) {
    const A = a.top10[s] ?? [];
    const B = ref.top10[s] ?? [];
    for (let i = 0; i < Math.min(A.length, B.length); i++) {
      const want = B[i]!;
      if (!want.length) continue;
      const got = new Set(A[i]);
      sum += want.filter((x) => got.has(x)).length / want.length;
      n++;
    }
  }
  return n ? sum / n : NaN;
}

let md = `# Search benchmark results\n\nReproduce: \`bash bench/search/run.sh all\` (or the steps: \`setup\`, \`builtin\`, \`mixed-1m\`, \`http\`, \`report\`).\n`;
md += `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, the load average during each run is in NOTES ("Which run each figure comes from"); absolute times move between runs, so compare ratios within one table.\n`;
/** The engines' figures on a corpus, from the driver files of `run.sh` (one file per engine process), with their file names. */
function engineResults(corpus: string): { file: string; result: EngineResult }[] {
  const dir = join(data, corpus);
  if (!existsSync(dir)) return [];
  const order = (f: string) => ['lucene', 'py', 'node-keiko', 'node'].findIndex((p) => f.startsWith(p));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && order(f) >= 0)
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b))
    .flatMap((file) => {
      const j = JSON.parse(readFileSync(join(dir, file), 'utf8')) as EngineResult | EngineResult[];
      return (Array.isArray(j) ? j : [j]).map((result) => ({ file, result }));
    });
}
const INTERLEAVED = 'node-interleaved.json';
const corpora = { builtin: engineResults('builtin'), 'mixed-1m': engineResults('mixed-1m') };
/** "p50 / p99" of a set, with how many timed queries a time budget left, if it cut the passes short. */
function latencyCell(r: EngineResult, set: string, queries: number): string {
  const xs = r.latency[set];
  if (!xs?.length) return '–';
  const expected = queries * (r.timedPasses ?? 1);
  return `${fmt(pct(xs, 50))} / ${fmt(pct(xs, 99))}${xs.length < expected ? ` (${xs.length} of ${expected} timed queries: time budget)` : ''}`;
}
function ratioRows(rs: EngineResult[]): string {
  const keiko = rs.find((r) => r.engine === 'keiko');
  if (!keiko) return '';
  let out = '| vs | short | long | common |\n|---|---|---|---|\n';
  for (const r of rs) {
    if (r === keiko) continue;
    out += `| ${r.engine} | ${sets.map((s) => (r.latency[s]?.length && keiko.latency[s]?.length ? (pct(r.latency[s]!, 50) / pct(keiko.latency[s]!, 50)).toFixed(1) + '×' : '–')).join(' | ')} |\n`;
  }
  return out;
}

// The protocol every driver recorded (run.sh gives them all the same WARMUP_PASSES, TIMED_PASSES
// and QUERY_BUDGET_S).
const protocols = new Set(Object.values(corpora).flat().map(({ result: r }) => `${r.warmupPasses ?? '?'} untimed passes over the set, then ${r.timedPasses ?? 1} timed passes`));
const protocol = `${[...protocols].join('; or ')}; an engine whose timed queries of a set take more than QUERY_BUDGET_S (30 s by default) stops there (its warm-up gets a quarter of that)`;
md += `All engines: one thread, top-10, BM25 k1=1.2 b=0.75 (tantivy's fixed values; Lucene's defaults), the same pre-tokenized passages (keiko's tokenizer: lowercase, Unicode folding, English stopwords). Each engine runs alone in its own process, one engine after the other, with the same protocol for every query set (modelled on the Lucene/tantivy/PISA search-benchmark-game's, with more warm-up passes: see NOTES, "Fourth follow-up"): ${protocol}.\n`;
md += `Latency is per query, in ms, measured inside each engine's own runtime (Node, CPython, JVM); p50 / p99 over every timed query.\n\n`;

for (const [corpus, entries] of Object.entries(corpora)) {
  const rs = entries.filter((e) => e.file !== INTERLEAVED).map((e) => e.result);
  if (!rs.length) continue;
  const lucene = rs.find((r) => r.engine === 'lucene');
  const bm25s = rs.find((r) => r.engine === 'bm25s');
  const n = rs[0]!.passages;
  md += `## Corpus: ${corpus} (${n.toLocaleString('en-US')} passages)\n\n`;
  md +=
    corpus === 'builtin'
      ? 'Real text: every retrieval passage of the built-in corpus (FOLDOC, Jargon File, WordNet, GCIDE, geo pages). Passages are short (dictionary entries; mean ~27 terms after stopwords).\n\n'
      : 'The built-in passages (real text) padded with generated passages to 1,000,000: each generated passage is 100 terms sampled from the built-in corpus\'s unigram distribution (seeded). 100 content terms ≈ a 150-word passage, so per-passage sizes here overstate a 100-word passage.\n\n';
  md += '| engine | build s | index RAM B/passage | disk B/passage | short p50 / p99 | long p50 / p99 | common p50 / p99 | overlap@10 vs Lucene | vs bm25s |\n|---|---|---|---|---|---|---|---|---|\n';
  for (const r of rs) {
    const ol = lucene && r !== lucene ? overlap(r, lucene).toFixed(3) : '–';
    const ob = bm25s && r !== bm25s ? overlap(r, bm25s).toFixed(3) : '–';
    md += `| ${r.engine} ${r.version} | ${r.buildSeconds.toFixed(1)} | ${Math.round(r.memoryBytes / n)} | ${r.diskBytes ? Math.round(r.diskBytes / n) : '–'} | ${sets.map((s) => latencyCell(r, s, queries[s].length)).join(' | ')} | ${ol} | ${ob} |\n`;
  }
  md += `\nRatios (p50 latency of the other engine ÷ keiko's; > 1 means keiko is faster):\n\n${ratioRows(rs)}`;
  md += '\nMemory methods and notes:\n\n';
  for (const r of rs) md += `- ${r.engine}: ${r.memoryMethod}${r.note ? `; ${r.note}` : ''}\n`;
  md += '\n';
}

// The secondary table: the Node engines in one process, taking turns query by query.
const inter = corpora.builtin.filter((e) => e.file === INTERLEAVED).map((e) => e.result);
if (inter.length) {
  md += `## Node engines interleaved in one process (built-in corpus)\n\nReproduce: \`bash bench/search/run.sh interleaved\` (part of \`builtin\`). The four Node engines of the table above in one process, after the same warm-up, taking turns query by query in an order shuffled per query (the main table's method before this update): between two of its queries each engine finds its code, objects and index data evicted from the CPU caches by the others' work, and may pay for their garbage collection. Same passes and budget as above.\n\n`;
  md += '| engine | short p50 / p99 | long p50 / p99 | common p50 / p99 |\n|---|---|---|---|\n';
  for (const r of inter) md += `| ${r.engine} | ${sets.map((s) => latencyCell(r, s, queries[s].length)).join(' | ')} |\n`;
  md += `\nRatios (p50 of the other engine ÷ keiko's):\n\n${ratioRows(inter)}\n`;
}

// Before/after of the per-query cost work (run.sh overhead): same process, same saved index.
const BEFORE = process.env.BEFORE_REV ?? '74ebeda';
type Overhead = { before?: string; rounds: number; chunk: number; mismatches: number; idMismatches?: number; maxRelScoreDiff?: number; latencyMs: Record<string, Record<string, { n: number; p50: number; p99: number; mean: number }>> };
const us = (x: { p50: number; p99: number }) => `${(x.p50 * 1000).toFixed(1)} / ${(x.p99 * 1000).toFixed(0)}`;
const overheadRows: string[] = [];
const overheadBefore = new Set<string>();
for (const corpus of ['builtin', 'mixed-1m']) {
  for (const mode of ['interleaved', 'blocked']) {
    const p = join(data, corpus, `overhead-${mode}.json`);
    if (!existsSync(p)) continue;
    const o = JSON.parse(readFileSync(p, 'utf8')) as Overhead;
    overheadBefore.add(o.before ?? BEFORE);
    for (const [set, e] of Object.entries(o.latencyMs)) {
      const [b, a, ms] = [e['keiko-before'], e.keiko, e.minisearch];
      if (!a || !b) continue;
      overheadRows.push(`| ${corpus} | ${mode}${o.chunk > 1 ? ` (${o.chunk})` : ''} | ${set} | ${us(b)} | ${us(a)} | ${(b.p50 / a.p50).toFixed(1)}× | ${ms ? us(ms) : '–'} | ${ms ? (ms.p50 / a.p50).toFixed(1) + '×' : '–'} | ${o.idMismatches ?? '–'} / ${o.mismatches}${o.maxRelScoreDiff ? ` (≤ ${o.maxRelScoreDiff.toExponential(0)})` : ''} |`);
    }
  }
}
if (overheadRows.length) {
  const rev = [...overheadBefore].join(' / ');
  md += `## Per-query cost, before and after (one process)\n\nReproduce: \`bash bench/search/run.sh overhead\` (BEFORE_REV=${rev}). keiko at revision ${rev} and keiko now load the same saved index in one Node process; on the built-in corpus MiniSearch is built in the same process over the same passages (short queries only: it takes 0.3–1 s per long or common-term query). Every engine returns the top-10 ids with scores. After a warm-up pass over the set, 3 rounds over the 400 queries, either interleaved query by query (rotating order), or in blocked turns of 400 queries per engine with a full GC before each turn (so no engine pays for another's garbage collection or finds its caches flushed by the other). Latency in µs, p50 / p99. "diff": queries whose top-10 ids differ between the two keiko revisions / whose ids or scores differ at all (in brackets: the largest relative score difference; scores summed in another order differ by an ulp or so).\n\n`;
  md += '| corpus | mode | set | keiko before | keiko now | speed-up (p50) | MiniSearch | MiniSearch ÷ keiko now (p50) | diff |\n|---|---|---|---|---|---|---|---|---|\n';
  md += overheadRows.join('\n') + '\n\n';
}

const compareDir = join(data, 'http-compare');
if (existsSync(compareDir)) {
  type HttpRun = { label: string; requests: number; non2xx: number; errors: number; seconds: number; latencyMs: Record<string, number>; serverCpuMsPerRequest: number; cpuSeconds: { server: number; loadGenerator: number }; loadAverage1m: { start: number; end: number } };
  const runs = readdirSync(compareDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ file: f, run: JSON.parse(readFileSync(join(compareDir, f), 'utf8')) as HttpRun, round: Number(/-(\d+)\.json$/.exec(f)?.[1]) }))
    .sort((a, b) => a.round - b.round || ['before', 'after', 'after-2-workers'].indexOf(a.run.label) - ['before', 'after', 'after-2-workers'].indexOf(b.run.label));
  // The HTTP comparison is rerun less often than the others: HTTP_BEFORE_REV names its old revision.
  const httpBefore = process.env.HTTP_BEFORE_REV ?? BEFORE;
  md += `## HTTP server, before and after\n\nReproduce: \`BEFORE_REV=${httpBefore} bash bench/search/run.sh http-compare\`. The load of the HTTP section below (500 requests/s for 60 s, 20 connections, 3 of 4 POST /api/search, 1 of 4 GET /api/open, built-in corpus), alternating between the server of revision ${httpBefore} ("before"), this checkout's ("after"), and this checkout's as 2 node:cluster processes, in the order listed. CPU: seconds used during the run by the server's processes (per request) and by autocannon (as a share of one core).\n\n`;
  md += '| round | server | requests | non-2xx | errors | p50 ms | p90 ms | p99 ms | max ms | server CPU ms/request | autocannon CPU | load average (1 min) start → end |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n';
  for (const { run: r, round } of runs) {
    md += `| ${round} | ${r.label} | ${r.requests} | ${r.non2xx} | ${r.errors} | ${r.latencyMs.p50} | ${r.latencyMs.p90} | ${r.latencyMs.p99} | ${r.latencyMs.max} | ${r.serverCpuMsPerRequest.toFixed(2)} | ${((100 * r.cpuSeconds.loadGenerator) / r.seconds).toFixed(0)}% | ${r.loadAverage1m.start.toFixed(1)} → ${r.loadAverage1m.end.toFixed(1)} |\n`;
  }
  md += '\n';
}

const http = join(data, 'http.json');
if (existsSync(http)) {
  const h = JSON.parse(readFileSync(http, 'utf8')) as { rate: number; seconds: number; requests: number; non2xx: number; errors: number; timeouts: number; latencyMs: Record<string, number>; throughput: number };
  md += `## HTTP server\n\n\`keiko search serve\` on the built-in corpus (own process), autocannon on loopback, ${h.rate} requests/s for ${h.seconds} s, 20 connections; 3 of 4 requests POST /api/search with varied queries, 1 of 4 GET /api/open. Reproduce: \`bash bench/search/run.sh http\`.\n\n`;
  md += `| requests | non-2xx | errors | timeouts | p50 ms | p90 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|---|\n| ${h.requests} | ${h.non2xx} | ${h.errors} | ${h.timeouts} | ${h.latencyMs.p50} | ${h.latencyMs.p90} | ${h.latencyMs.p99} | ${h.latencyMs.max} |\n\n`;
}
const extra = join(here, 'NOTES.md');
if (existsSync(extra) && statSync(extra).size) md += readFileSync(extra, 'utf8');
writeFileSync(join(here, 'RESULTS.md'), md);
console.log(md);
