/**
 * HTTP load test of `keiko search serve` on the built-in corpus: autocannon on loopback at a fixed
 * 500 requests/s for 60 s (3 of 4 requests POST /api/search with varied queries, 1 of 4 GET
 * /api/open), reporting latency percentiles. The server runs as its own process.
 * Usage: npx tsx bench/search/http-bench.ts [--rate 500] [--seconds 60] [--index .keiko/search/builtin]
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';

const args = process.argv.slice(2);
const opt = (n: string, d: string) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1]! : d);
const rate = Number(opt('rate', '500'));
const seconds = Number(opt('seconds', '60'));
const index = opt('index', '.keiko/search/builtin');
const here = import.meta.dirname;
const queries = JSON.parse(readFileSync(join(here, 'data', 'queries.json'), 'utf8')) as { short: string[]; long: string[] };
const pool = [...queries.short, ...queries.long];
const opens = ['https://jargon.local/wiki/hacker', 'https://foldoc.local/wiki/abstract_data_type', 'https://geo.local/country/PE', 'https://wordnet.local/wiki/dog'];

const server = spawn(process.execPath, ['bin/keiko.js', 'search', 'serve', '--index', index, '--port', '0', '--rate', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve, reject) => {
  let buf = '';
  server.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const m = /(http:\/\/[\d.]+:\d+)/.exec(buf);
    if (m) resolve(m[1]!);
  });
  server.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
});
let n = 0;
const result = await autocannon({
  url,
  connections: 20,
  duration: seconds,
  overallRate: rate,
  requests: [
    {
      setupRequest: (req) => {
        const i = n++;
        if (i % 4 === 3) return { ...req, method: 'GET', path: `/api/open?url=${encodeURIComponent(opens[i % opens.length]!)}&line=1` };
        return { ...req, method: 'POST', path: '/api/search', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: pool[i % pool.length] }) };
      },
    },
  ],
});
server.kill('SIGTERM');
const l = result.latency;
const summary = {
  rate,
  seconds,
  requests: result.requests.total,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  latencyMs: { p50: l.p50, p90: l.p90, p99: l.p99, max: l.max, mean: l.average },
  throughput: result.requests.average,
};
mkdirSync(join(here, 'data'), { recursive: true });
writeFileSync(join(here, 'data', 'http.json'), JSON.stringify(summary, null, 2));
console.log(JSON.stringify(summary, null, 2));
