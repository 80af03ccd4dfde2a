/**
 * HTTP load test of `keiko search serve` on the built-in corpus: autocannon on loopback at a fixed
 * 500 requests/s for 60 s (3 of 4 requests POST /api/search with varied queries, 1 of 4 GET
 * /api/open), reporting latency percentiles. The server runs as its own process.
 * Also records the CPU seconds used by the server (all its processes) and by the load generator
 * (this process), and the load average, so a run on a shared machine can be judged.
 * Usage: npx tsx bench/search/http-bench.ts [--rate 500] [--seconds 60] [--index .keiko/search/builtin]
 *          [--server-root DIR (a checkout whose bin/keiko.js serves; default this one)]
 *          [--workers N (N > 1: N server processes under node:cluster)] [--label NAME] [--out FILE]
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { BENCH_OPENS } from './bench-data.js';

const args = process.argv.slice(2);
const opt = (n: string, d: string) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1]! : d);
const rate = Number(opt('rate', '500'));
const seconds = Number(opt('seconds', '60'));
const index = resolve(opt('index', '.keiko/search/builtin'));
const serverRoot = resolve(opt('server-root', '.'));
const workers = Number(opt('workers', '1'));
const label = opt('label', 'keiko');
const here = import.meta.dirname;
const outPath = opt('out', join(here, 'data', 'http.json'));
const queries = JSON.parse(readFileSync(join(here, 'data', 'queries.json'), 'utf8')) as { short: string[]; long: string[] };
const pool = [...queries.short, ...queries.long];
const opens = BENCH_OPENS;

const serveArgs = [join(serverRoot, 'bin/keiko.js'), 'search', 'serve', '--index', index, '--port', '0', '--rate', '0'];
const server = spawn(process.execPath, workers > 1 ? ['--import', 'tsx', join(here, 'cluster-serve.ts'), String(workers), ...serveArgs] : serveArgs, {
  stdio: ['ignore', 'pipe', 'inherit'],
  cwd: serverRoot,
});
const url = await new Promise<string>((resolve, reject) => {
  let buf = '';
  server.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const m = /(http:\/\/[\d.]+:\d+)/.exec(buf);
    if (m) resolve(m[1]!);
  });
  server.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
});
// Let every worker load its index before the clock starts.
await new Promise((r) => setTimeout(r, workers > 1 ? 5000 : 500));
const serverCpu0 = treeCpuSeconds(server.pid!);
const benchCpu0 = process.cpuUsage();
const load0 = loadavg();
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
const benchCpu = process.cpuUsage(benchCpu0);
const serverCpu = treeCpuSeconds(server.pid!) - serverCpu0;
const load1 = loadavg();
server.kill('SIGTERM');
const l = result.latency;
const summary = {
  label,
  workers,
  rate,
  seconds,
  requests: result.requests.total,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  latencyMs: { p50: l.p50, p90: l.p90, p99: l.p99, max: l.max, mean: l.average },
  throughput: result.requests.average,
  /** CPU seconds of the server's processes and of the load generator during the run. */
  cpuSeconds: { server: serverCpu, loadGenerator: (benchCpu.user + benchCpu.system) / 1e6 },
  /** Server CPU per request, in ms. */
  serverCpuMsPerRequest: (serverCpu * 1000) / Math.max(1, result.requests.total),
  loadAverage1m: { start: load0[0], end: load1[0] },
};
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, JSON.stringify(summary, null, 2));
console.log(JSON.stringify(summary, null, 2));

/** User + system CPU seconds of a process and all its descendants (Linux /proc). */
function treeCpuSeconds(pid: number): number {
  let total = 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    total += (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean)) total += treeCpuSeconds(Number(child));
    }
  } catch {
    // The process ended between listing and reading.
  }
  return total;
}
