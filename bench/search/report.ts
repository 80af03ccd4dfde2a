/** Merges the benchmark JSON files under bench/search/data into bench/search/RESULTS.md. */
import { cpus } from 'node:os';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineResult } from './engine-result.js';

const here = import.meta.dirname;
const data = join(here, 'data');
const sets = ['short', 'long', 'common'] as const;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const fmt = (ms: number) => (ms < 1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
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
md += `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, shared with other jobs while measuring (absolute times are noisy; compare ratios within one table).\n`;
md += `All engines: one thread, top-10, BM25 k1=1.2 b=0.75 (tantivy's fixed values; Lucene's defaults), the same pre-tokenized passages (keiko's tokenizer: lowercase, Unicode folding, English stopwords), queries interleaved between engines of the same runtime after a warm-up.\n`;
md += `Latency is per query, in ms, measured inside each engine's own runtime (Node, CPython, JVM).\n\n`;

for (const corpus of ['builtin', 'mixed-1m']) {
  const rs: EngineResult[] = [];
  for (const f of ['lucene.json', 'py.json', 'node.json']) {
    const p = join(data, corpus, f);
    if (!existsSync(p)) continue;
    const j = JSON.parse(readFileSync(p, 'utf8')) as EngineResult | EngineResult[];
    rs.push(...(Array.isArray(j) ? j : [j]));
  }
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
    const full = Math.max(...rs.map((x) => x.latency.short?.length ?? 0));
    const lat = sets.map((s) => {
      const xs = r.latency[s];
      if (!xs?.length) return '–';
      return `${fmt(pct(xs, 50))} / ${fmt(pct(xs, 99))}${xs.length < full ? ` (first ${xs.length} queries: time budget)` : ''}`;
    });
    const ol = lucene && r !== lucene ? overlap(r, lucene).toFixed(3) : '–';
    const ob = bm25s && r !== bm25s ? overlap(r, bm25s).toFixed(3) : '–';
    md += `| ${r.engine} ${r.version} | ${r.buildSeconds.toFixed(1)} | ${Math.round(r.memoryBytes / n)} | ${r.diskBytes ? Math.round(r.diskBytes / n) : '–'} | ${lat.join(' | ')} | ${ol} | ${ob} |\n`;
  }
  const keiko = rs.find((r) => r.engine === 'keiko');
  if (keiko) {
    md += '\nRatios (p50 latency of the other engine ÷ keiko\'s; > 1 means keiko is faster):\n\n| vs | short | long | common |\n|---|---|---|---|\n';
    for (const r of rs) {
      if (r === keiko) continue;
      md += `| ${r.engine} | ${sets.map((s) => (r.latency[s] && keiko.latency[s] ? (pct(r.latency[s]!, 50) / pct(keiko.latency[s]!, 50)).toFixed(1) + '×' : '–')).join(' | ')} |\n`;
    }
  }
  md += '\nMemory methods and notes:\n\n';
  for (const r of rs) md += `- ${r.engine}: ${r.memoryMethod}${r.note ? `; ${r.note}` : ''}\n`;
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
