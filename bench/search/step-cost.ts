/**
 * What one RL step's browsing costs: the founding picture is 16 drafts × 100 page opens × 512
 * prompts = 819,200 opens per step, with one search per three opens. Times, in one process and
 * interleaved round by round, (a) the raw BM25 floor (top-10 passages, no page work), (b) a results
 * page (`SearchWeb.search`: pages, snippets), (c) a page open (`SearchWeb.open`: a 40-line window,
 * layouts cached as in an episode) and (d) the mixed workload (1 search + 3 opens) through
 * `POST /api/batch`-shaped calls in process; extrapolates each to the step, per process and for
 * `--workers` processes on this machine's cores.
 *
 * Usage: node --import tsx bench/search/step-cost.ts INDEX_DIR [QUESTIONS.jsonl] [seconds per round = 3] [rounds = 3]
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { LocalSearchIndex, SearchWeb } from '../../src/search/index.js';

const [dir, qaPath, secArg, roundsArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: step-cost.ts INDEX_DIR [QUESTIONS.jsonl] [seconds] [rounds]');
const seconds = Number(secArg ?? 3);
const rounds = Number(roundsArg ?? 3);
const index = LocalSearchIndex.load(dir);
const web = new SearchWeb(index);
// Queries: synthesized questions when given (what an agent asks), else page titles.
const queries: string[] = [];
if (qaPath) for (const l of readFileSync(qaPath, 'utf8').split('\n')) if (l.trim()) queries.push((JSON.parse(l) as { question: string }).question.slice(0, 200));
for (let i = 0; queries.length < 500 && i < index.docs.size; i += Math.max(1, Math.floor(index.docs.size / 500))) queries.push(index.document(i).title);
// URLs to open: the top results of the queries (what an agent opens).
const urls: string[] = [];
for (const q of queries.slice(0, 300)) for (const h of index.search(q, { k: 3 })) urls.push(index.hit(h).url);

async function timeFor(fn: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) for (let j = 0; j < 20; j++) await fn(n++);
  return (performance.now() - end + seconds * 1000) / n;
}
const ms: Record<string, number[]> = { bm25: [], search: [], open: [], mixed: [] };
for (let r = 0; r < rounds; r++) {
  ms.bm25!.push(await timeFor((i) => index.search(queries[i % queries.length]!, { k: 10 })));
  ms.search!.push(await timeFor((i) => web.search({ query: queries[i % queries.length]! })));
  ms.open!.push(await timeFor((i) => web.open({ url: urls[i % urls.length]! })));
  ms.mixed!.push(
    await timeFor(async (i) => {
      await web.search({ query: queries[i % queries.length]! });
      for (let k = 0; k < 3; k++) await web.open({ url: urls[(i * 3 + k) % urls.length]! });
    }),
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const OPENS = 16 * 100 * 512;
const SEARCHES = OPENS / 3;
const m = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, median(v)])) as Record<string, number>;
const stepMinutes = (perUnit: number, units: number, procs: number) => (perUnit * units) / procs / 60_000;
const cores = availableParallelism();
const lines = [
  `index: ${dir} (${index.info.documents} pages, ${index.info.passages} passages); ${queries.length} queries; ${rounds} rounds × ${seconds} s, medians; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cores} cores`,
  `| operation | ms each | per second | step share (819,200 opens + 273,067 searches), 1 process | ${cores} processes |`,
  `|---|---|---|---|---|`,
  `| raw BM25 top-10 (floor) | ${m.bm25!.toFixed(3)} | ${(1000 / m.bm25!).toFixed(0)} | ${stepMinutes(m.bm25!, SEARCHES, 1).toFixed(2)} min (searches only) | ${stepMinutes(m.bm25!, SEARCHES, cores).toFixed(2)} min |`,
  `| results page | ${m.search!.toFixed(3)} | ${(1000 / m.search!).toFixed(0)} | ${stepMinutes(m.search!, SEARCHES, 1).toFixed(2)} min | ${stepMinutes(m.search!, SEARCHES, cores).toFixed(2)} min |`,
  `| page open | ${m.open!.toFixed(3)} | ${(1000 / m.open!).toFixed(0)} | ${stepMinutes(m.open!, OPENS, 1).toFixed(2)} min | ${stepMinutes(m.open!, OPENS, cores).toFixed(2)} min |`,
  `| 1 search + 3 opens | ${m.mixed!.toFixed(3)} | ${(1000 / m.mixed!).toFixed(0)} | **${stepMinutes(m.mixed!, SEARCHES, 1).toFixed(2)} min per step** | **${stepMinutes(m.mixed!, SEARCHES, cores).toFixed(2)} min per step** |`,
  `results page ÷ raw BM25: ${(m.search! / m.bm25!).toFixed(1)}×`,
];
process.stdout.write(lines.join('\n') + '\n');
index.close();
