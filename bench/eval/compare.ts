// Side-by-side eval benchmark: keiko vs verifiers (PyPI, its `vf-eval`) on the same single-turn
// arithmetic task and the same local fixed-latency OpenAI-compatible endpoint (keiko's test server,
// run as its own process), plus keiko's own per-rollout overhead with zero-latency responses.
// Contenders are interleaved (keiko, verifiers, keiko, verifiers…). Writes bench/eval/RESULTS.md.
//
//   bash bench/eval/setup-verifiers.sh          # once: verifiers into bench/eval/.venv
//   node --import tsx bench/eval/compare.ts [--rollouts 1000] [--concurrency 256] [--latency-ms 500] [--reps 2]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadBuiltinEnvironment } from '../../environments/index.js';
import { runRollouts } from '../../src/rollout/run-rollouts.js';
import { OpenAISampler } from '../../src/samplers/openai-sampler.js';
import { ScriptedSampler } from '../../src/testing/scripted-sampler.js';
import { solveArithmetic } from '../../src/testing/test-server-rules.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const venv = join(here, '.venv');
const { values } = parseArgs({
  options: {
    rollouts: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '256' },
    'latency-ms': { type: 'string', default: '500' },
    reps: { type: 'string', default: '2' },
    'null-harness-rollouts': { type: 'string', default: '64' },
    'overhead-rollouts': { type: 'string', default: '2000' },
    'skip-verifiers': { type: 'boolean', default: false },
    out: { type: 'string', default: join(here, 'RESULTS.md') },
  },
});
const N = Number(values.rollouts);
const C = Number(values.concurrency);
const LATENCY = Number(values['latency-ms']);
const REPS = Number(values.reps);
const NULL_N = Number(values['null-harness-rollouts']);
const OVERHEAD_N = Number(values['overhead-rollouts']);

interface Measure {
  contender: string;
  rollouts: number;
  concurrency: number;
  /** Process start to exit. */
  wallS: number;
  /** First rollout start to last rollout scored, as the tool reports it. */
  phaseS: number;
  meanReward: number;
  errors: number;
  cpuS?: number;
}

function startServer(latencyMs: number): Promise<{ url: string; proc: ChildProcess }> {
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/testing/test-server-main.ts'), '--rule', 'arithmetic', '--latency-ms', String(latencyMs)], { cwd: root });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\S+)/.exec(out);
      if (m) resolvePromise({ url: m[1]!, proc });
    });
    proc.on('exit', (code) => reject(new Error(`test server exited ${code}`)));
  });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string; wallS: number }> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr, wallS: (performance.now() - t0) / 1000 }));
  });
}

async function keikoEval(url: string, n = N, c = C): Promise<Measure> {
  const out = await mkdtemp(join(tmpdir(), 'keiko-bench-'));
  const r = await run(process.execPath, [join(root, 'bin/keiko.js'), 'eval', '-e', 'arithmetic', '--env-args', JSON.stringify({ evalCount: n }), '-n', String(n), '-r', '1', '-c', String(c), '-m', 'test-model', '-b', url, '--no-progress', '--json', '--out', out]);
  await rm(out, { recursive: true, force: true });
  if (r.code !== 0) throw new Error(`keiko eval failed (${r.code}): ${r.stderr.slice(-2000)}`);
  const meta = JSON.parse(r.stdout) as { durationS: number; meanReward: number; errors: number; examples: number };
  return { contender: n === N ? 'keiko eval' : `keiko eval (${n} rollouts)`, rollouts: meta.examples, concurrency: c, wallS: r.wallS, phaseS: meta.durationS, meanReward: meta.meanReward, errors: meta.errors };
}

async function verifiersEval(url: string, harness: string, n: number, c: number): Promise<Measure> {
  const out = await mkdtemp(join(tmpdir(), 'vf-bench-'));
  const r = await run(
    join(venv, 'bin/vf-eval'),
    ['vf-arith', '-m', 'test-model', '-n', String(n), '-r', '1', '-c', String(c), '--client.base-url', url, '--client.api-key-var', 'OPENAI_API_KEY', '--env.agent.runtime.type', 'subprocess', '--env.agent.harness.id', harness, '--no-push', '--no-rich', '-o', out],
    { PATH: `${join(venv, 'bin')}:${process.env.PATH}`, OPENAI_API_KEY: 'none', PRIME_API_KEY: 'none', VF_ARITH_DATA: dataPath },
  );
  const [runDir] = existsSync(out) ? await readdir(out) : [];
  const tracesPath = runDir ? join(out, runDir, 'traces.jsonl') : '';
  if (r.code !== 0 || !tracesPath || !existsSync(tracesPath)) throw new Error(`vf-eval failed (${r.code}): ${r.stderr.slice(-3000)}`);
  type Episode = { ok: boolean; traces: { rewards: Record<string, { score: number }>; timing: { start: number; scoring: { end: number } } }[] };
  const episodes = (await readFile(tracesPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Episode);
  await rm(out, { recursive: true, force: true });
  const starts = episodes.map((e) => e.traces[0]!.timing.start);
  const ends = episodes.map((e) => e.traces[0]!.timing.scoring.end || e.traces[0]!.timing.start);
  const rewards = episodes.map((e) => e.traces[0]?.rewards.correct?.score ?? 0);
  return {
    contender: `verifiers vf-eval (${harness} harness)`,
    rollouts: episodes.length,
    concurrency: c,
    wallS: r.wallS,
    phaseS: Math.max(...ends) - Math.min(...starts),
    meanReward: rewards.reduce((a, b) => a + b, 0) / rewards.length,
    errors: episodes.filter((e) => !e.ok).length,
  };
}

/** keiko's own cost per rollout: CPU of this process over a run, no network (scripted) and over HTTP (zero latency). */
async function overhead(url: string): Promise<{ scriptedMs: number; scriptedCpuMs: number; httpMs: number; httpCpuMs: number }> {
  const env = await loadBuiltinEnvironment('arithmetic', { evalCount: OVERHEAD_N });
  const examples = env.evalDataset!;
  const answer = (text: string) => `<answer>${solveArithmetic(text)}</answer>`;
  const best = { scriptedMs: Infinity, scriptedCpuMs: Infinity, httpMs: Infinity, httpCpuMs: Infinity };
  for (let rep = 0; rep < 3; rep++) {
    const scripted = new ScriptedSampler({ respond: (req) => answer(req.messages.at(-1)!.content ?? '') });
    let t0 = performance.now();
    let c0 = process.cpuUsage();
    const a = await runRollouts({ env, sampler: scripted, examples, concurrency: C });
    let cpu = process.cpuUsage(c0);
    best.scriptedMs = Math.min(best.scriptedMs, (performance.now() - t0) / a.length);
    best.scriptedCpuMs = Math.min(best.scriptedCpuMs, (cpu.user + cpu.system) / 1000 / a.length);
    const sampler = new OpenAISampler({ model: 'test-model', baseUrl: url });
    t0 = performance.now();
    c0 = process.cpuUsage();
    const b = await runRollouts({ env, sampler, examples, concurrency: C });
    cpu = process.cpuUsage(c0);
    if (b.some((r) => r.error)) throw new Error('overhead run had errors');
    best.httpMs = Math.min(best.httpMs, (performance.now() - t0) / b.length);
    best.httpCpuMs = Math.min(best.httpCpuMs, (cpu.user + cpu.system) / 1000 / b.length);
  }
  return best;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const f = (x: number, d = 2) => x.toFixed(d);

/** Writes the eval split verifiers reads, straight from keiko's env, so both see the same questions. */
async function exportData(): Promise<string> {
  const env = await loadBuiltinEnvironment('arithmetic', { evalCount: N });
  const path = join(await mkdtemp(join(tmpdir(), 'vf-data-')), `arithmetic-${N}.jsonl`);
  const lines = env.evalDataset!.map((e) => JSON.stringify({ id: e.id, system: e.prompt[0]!.content, question: e.prompt.at(-1)!.content, answer: e.answer }));
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

let dataPath = '';

async function main() {
  const loadBefore = loadavg();
  dataPath = await exportData();
  const haveVerifiers = !values['skip-verifiers'] && existsSync(join(venv, 'bin/vf-eval'));
  const measures: Measure[] = [];
  const fixed = await startServer(LATENCY);
  try {
    for (let rep = 0; rep < REPS; rep++) {
      process.stderr.write(`rep ${rep + 1}/${REPS}: keiko…\n`);
      measures.push(await keikoEval(fixed.url));
      if (haveVerifiers) {
        process.stderr.write(`rep ${rep + 1}/${REPS}: verifiers (in-process harness)…\n`);
        measures.push(await verifiersEval(fixed.url, 'vf-inproc', N, C));
      }
    }
    if (haveVerifiers && NULL_N > 0) {
      process.stderr.write(`verifiers (null harness, ${NULL_N} rollouts)…\n`);
      measures.push(await verifiersEval(fixed.url, 'null', NULL_N, Math.min(C, NULL_N)));
      process.stderr.write(`keiko (${NULL_N} rollouts)…\n`);
      measures.push(await keikoEval(fixed.url, NULL_N, Math.min(C, NULL_N)));
    }
  } finally {
    fixed.proc.kill('SIGTERM');
  }
  const zero = await startServer(0);
  let oh;
  try {
    process.stderr.write('keiko overhead (zero latency)…\n');
    oh = await overhead(zero.url);
  } finally {
    zero.proc.kill('SIGTERM');
  }

  const byContender = new Map<string, Measure[]>();
  for (const m of measures) byContender.set(m.contender, [...(byContender.get(m.contender) ?? []), m]);
  const rows = [...byContender.entries()].map(([name, ms]) => {
    const phase = median(ms.map((m) => m.phaseS));
    const wall = median(ms.map((m) => m.wallS));
    const n = ms[0]!.rollouts;
    return { name, n, c: ms[0]!.concurrency, runs: ms.length, phase, wall, rate: n / phase, wallRate: n / wall, reward: median(ms.map((m) => m.meanReward)), errors: Math.max(...ms.map((m) => m.errors)) };
  });
  const loadAfter = loadavg();
  const keiko = rows.find((r) => r.name === 'keiko eval')!;
  const keikoSmall = rows.find((r) => r.name === `keiko eval (${NULL_N} rollouts)`);
  const base = (r: (typeof rows)[number]) => (r.name.includes('null harness') && keikoSmall ? keikoSmall : keiko);
  const table = [
    '| contender | rollouts | concurrency | runs | rollout phase (s, median) | rollouts/s | process wall (s) | rollouts/s incl. startup | keiko ratio (phase) | keiko ratio (wall) | mean reward | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.n} | ${r.c} | ${r.runs} | ${f(r.phase)} | ${f(r.rate, 1)} | ${f(r.wall)} | ${f(r.wallRate, 1)} | ${r.name.startsWith('keiko') ? '—' : `${f(base(r).rate / r.rate)}×`} | ${r.name.startsWith('keiko') ? '—' : `${f(base(r).wallRate / r.wallRate)}×`} | ${f(r.reward, 3)} | ${r.errors} |`,
    ),
  ].join('\n');
  const vfIn = rows.find((r) => r.name.includes('vf-inproc'));
  const summaryLine = vfIn
    ? `keiko eval ran ${N} rollouts at concurrency ${C} at ${f(keiko.rate, 1)} rollouts/s against verifiers' ${f(vfIn.rate, 1)} (its fastest configuration): ${f(keiko.rate / vfIn.rate, 1)}× the throughput in the rollout phase, ${f(keiko.wallRate / vfIn.wallRate, 1)}× counting process start-up (target ≥ 1.5×). keiko's own overhead is ${f(oh.scriptedMs, 3)} ms wall / ${f(oh.scriptedCpuMs, 3)} ms CPU per rollout with zero-latency responses (target < 0.5 ms).`
    : `verifiers was not run. keiko's own overhead is ${f(oh.scriptedMs, 3)} ms wall / ${f(oh.scriptedCpuMs, 3)} ms CPU per rollout with zero-latency responses (target < 0.5 ms).`;
  const raw = measures.map((m) => `| ${m.contender} | ${m.rollouts} | ${f(m.phaseS)} | ${f(m.wallS)} | ${f(m.meanReward, 3)} |`).join('\n');
  const ideal = Math.ceil(N / C) * (LATENCY / 1000);
  const vfVersion = haveVerifiers ? (await run(join(venv, 'bin/python'), ['-c', 'import verifiers; print(verifiers.__version__)'])).stdout.trim() : 'not installed';
  const text = `# bench/eval — keiko eval vs verifiers vf-eval

Generated by \`bench/eval/compare.ts\` on ${new Date().toISOString().slice(0, 16)}Z · ${cpus().length} CPU cores (${cpus()[0]?.model ?? '?'}) ·
Node ${process.version} · verifiers ${vfVersion} (PyPI, in \`bench/eval/.venv\`).
Machine load average (1 min) ${f(loadBefore[0]!, 1)} at the start and ${f(loadAfter[0]!, 1)} at the end: the machine
was shared with other jobs, so absolute times are inflated and noisy; the contenders ran interleaved
under the same conditions, so the ratios are the figures to read.

**Result.** ${summaryLine}

## Setup

- **Task** (same for both): keiko's built-in \`arithmetic\` eval split, ${N} questions such as \`70+27\`,
  system prompt \`Reply <answer>N</answer>.\`, reward 1 when the last \`<answer>\` equals the result.
  verifiers runs it as a v1 taskset (\`bench/eval/vf_arith\`) over the same questions, which
  \`compare.ts\` exports from keiko's env to JSONL before the runs.
- **Endpoint** (same for both): keiko's OpenAI-compatible test server as its own process
  (\`src/testing/test-server-main.ts --rule arithmetic --latency-ms ${LATENCY}\`): every chat completion
  answers after a fixed ${LATENCY} ms with the correct \`<answer>\`. Lower bound for ${N} rollouts at
  concurrency ${C}: ${Math.ceil(N / C)} waves × ${LATENCY} ms = ${f(ideal)} s.
- **Load**: ${N} rollouts (${N} examples × 1), concurrency ${C} for both, ${REPS} runs each, interleaved
  (keiko, verifiers, keiko, …); medians reported.
- **keiko**: \`keiko eval -e arithmetic --env-args '{"evalCount":${N}}' -n ${N} -r 1 -c ${C} -m test-model -b <url> --json\`.
- **verifiers**: \`vf-eval vf-arith -n ${N} -r 1 -c ${C} --client.base-url <url> --env.agent.runtime.type subprocess --env.agent.harness.id <harness> --no-push --no-rich\`.
  verifiers 0.4 runs each episode through a *harness* and an interception proxy. Its built-in
  \`null\` harness (a plain chat loop) launches one Python program per episode; that cost dominates, so
  the main comparison uses \`vf-inproc\` (\`bench/eval/vf_arith/vf_inproc\`), a 30-line harness that
  makes the one chat call in-process through the interception endpoint — the fastest verifiers
  configuration we could build, and allowed by its Harness contract. The \`null\` harness is measured
  once on ${NULL_N} rollouts (concurrency ${Math.min(C, NULL_N)}) for reference; its ratio compares throughput at that smaller size.

## Throughput

"Rollout phase" is first rollout started → last rollout scored, from each tool's own timestamps
(keiko: \`metadata.json\` durationS; verifiers: trace \`timing.start\` / \`timing.scoring.end\`).
"Process wall" adds start-up (Python imports, env loading, tsx). Ratios are keiko ÷ contender
throughput (higher = keiko faster); the \`null\`-harness row is compared with keiko on the same
${NULL_N} rollouts.

${table}

Raw runs (in execution order):

| contender | rollouts | rollout phase (s) | process wall (s) | mean reward |
| --- | --- | --- | --- | --- |
${raw}

Both tools solved every rollout (mean reward 1.000, 0 errors), so they did the same work. Where the
time goes in verifiers was not profiled; per episode it builds a runtime, a trace and routes the
model call through its local interception server (streamed), and the \`null\` harness also starts a
Python program — keiko calls the endpoint directly from the rollout.

## keiko's own overhead per rollout (zero-latency responses)

${OVERHEAD_N} rollouts of the same task at concurrency ${C}, best of 3, measured inside one Node process:

| path | wall per rollout | CPU per rollout (keiko process) |
| --- | --- | --- |
| rollout engine only (\`runRollouts\` + \`ScriptedSampler\`, no network): env rollout, rubric, result record | ${f(oh.scriptedMs, 3)} ms | ${f(oh.scriptedCpuMs, 3)} ms |
| full client path (\`runRollouts\` + \`OpenAISampler\` → zero-latency test server process over HTTP) | ${f(oh.httpMs, 3)} ms | ${f(oh.httpCpuMs, 3)} ms |

Target: < 0.5 ms per rollout of keiko's own overhead → the engine-only row. The HTTP row adds the
\`openai\` SDK, fetch/undici and JSON on both sides of a real socket; on a 2-core machine the test
server process competes for the same cores, so its wall figure includes server time.

## Reproduce

\`\`\`bash
npm ci
bash bench/eval/setup-verifiers.sh      # python3 -m venv bench/eval/.venv; pip install verifiers uv; pip install -e bench/eval/vf_arith
node --import tsx bench/eval/compare.ts --rollouts ${N} --concurrency ${C} --latency-ms ${LATENCY} --reps ${REPS}
\`\`\`
`;
  await writeFile(values.out!, text);
  process.stdout.write(`${table}\n\noverhead: engine ${f(oh.scriptedMs, 3)} ms wall / ${f(oh.scriptedCpuMs, 3)} ms CPU; http ${f(oh.httpMs, 3)} ms / ${f(oh.httpCpuMs, 3)} ms\nwrote ${values.out}\n`);
}

await main();
