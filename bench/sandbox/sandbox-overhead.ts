/**
 * Sandbox overhead: how much a bubblewrap sandbox run (keiko's `Sandbox.run`) adds to running the
 * same program unsandboxed (plain `child_process.spawn`), side by side. Contenders alternate run
 * by run, so machine load hits both alike; read the overhead (sandboxed − bare) and the ratio.
 *
 *   npx tsx bench/sandbox/sandbox-overhead.ts [--runs 40] [--concurrency 8] [--out bench/sandbox/RESULTS.md]
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Sandbox } from '../../src/sandbox/index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const RUNS = Number(arg('runs', '40'));
const CONCURRENCY = Number(arg('concurrency', '8'));
const OUT = arg('out', '');

function bare(command: string[]): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    // A clean environment, as the sandbox gives (this script runs under tsx, whose NODE_OPTIONS a
    // child Node would otherwise inherit).
    const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } });
    child.stdout.resume();
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${command.join(' ')} exited ${code}`))));
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function main(): Promise<void> {
  const t0 = performance.now();
  const sandbox = await Sandbox.create();
  const createMs = performance.now() - t0;
  const programs: { name: string; command: string[] }[] = [
    { name: '/bin/true', command: ['/bin/true'] },
    { name: 'python3 -c pass', command: [sandbox.interpreters.python, '-E', '-s', '-B', '-c', 'pass'] },
    { name: "node -e ''", command: [sandbox.interpreters.node, '-e', ''] },
  ];
  const rows: string[] = [];
  for (const p of programs) {
    const b: number[] = [];
    const s: number[] = [];
    await bare(p.command); // warm-up
    await sandbox.run({ command: p.command });
    for (let i = 0; i < RUNS; i++) {
      b.push(await bare(p.command));
      const t = performance.now();
      const r = await sandbox.run({ command: p.command });
      if (r.outcome !== 'ok') throw new Error(`sandboxed ${p.name}: ${r.outcome} ${r.stderr}`);
      s.push(performance.now() - t);
    }
    const f = (x: number) => x.toFixed(1);
    rows.push(`| ${p.name} | ${RUNS} | ${f(pct(b, 50))} | ${f(pct(s, 50))} | **${f(pct(s, 50) - pct(b, 50))}** | ${f(pct(b, 90))} / ${f(pct(s, 90))} | ${(pct(s, 50) / pct(b, 50)).toFixed(2)} |`);
    process.stdout.write(rows.at(-1)! + '\n');
  }
  // Throughput with concurrent runs (the GRPO case: a group's programs graded at once).
  const n = CONCURRENCY * 4;
  let t = performance.now();
  for (let i = 0; i < n; i += CONCURRENCY) await Promise.all(Array.from({ length: CONCURRENCY }, () => bare(['/bin/true'])));
  const bareRate = n / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < n; i += CONCURRENCY) await Promise.all(Array.from({ length: CONCURRENCY }, () => sandbox.run({ command: ['/bin/true'] })));
  const sandboxRate = n / ((performance.now() - t) / 1000);

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' / ')}`;
  const text = [
    '# Sandbox overhead per run',
    '',
    `Reproduce: \`npx tsx bench/sandbox/sandbox-overhead.ts --runs ${RUNS} --concurrency ${CONCURRENCY} --out bench/sandbox/RESULTS.md\``,
    '',
    `Machine: ${machine}. Date: ${new Date().toISOString().slice(0, 10)}.`,
    '',
    'Bare = `child_process.spawn` of the program; sandboxed = `Sandbox.run` of the same program (prlimit → setpriv → bwrap with',
    'new user/PID/net/IPC/UTS/cgroup namespaces, read-only /usr, a fresh workspace created, chowned and deleted per run).',
    'Contenders alternate run by run. Times in ms.',
    '',
    '| program | runs each | bare p50 | sandboxed p50 | overhead p50 | p90 bare / sandboxed | ratio |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `\`Sandbox.create()\` (finds the tools, probes one sandboxed run): ${createMs.toFixed(0)} ms, once per process.`,
    `Throughput of \`/bin/true\` with ${CONCURRENCY} runs at a time: bare ${bareRate.toFixed(0)}/s, sandboxed ${sandboxRate.toFixed(0)}/s.`,
    '',
  ].join('\n');
  process.stdout.write(text);
  if (OUT) writeFileSync(OUT, text);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
