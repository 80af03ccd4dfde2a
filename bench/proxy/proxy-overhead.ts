// Overhead of keiko's interception proxy per model call, against calling the same upstream directly,
// in one run with the two contenders interleaved round by round (A B A B …).
//
//   npx tsx bench/proxy/proxy-overhead.ts [--rollouts 200] [--calls 4] [--rounds 6] [--latency-ms 500,20] [--out bench/proxy/RESULTS.md]
//
// The upstream is keiko's OpenAI-compatible test server in its own process (vLLM-style token ids
// and logprobs, a fixed latency standing in for the model). The load generator and the proxy share
// this process, as an agent and AgentEnv do. Each "rollout" is an agent making `calls` sequential
// chat calls with a growing history; `rollouts` of them run at once. Reported per call: mean and
// percentile latency, and CPU time of this process (client + proxy) per call.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startAgentProxy, ROLLOUT_ID_HEADER, type AgentProxy } from '../../src/proxy/index.js';

const { values } = parseArgs({
  options: {
    rollouts: { type: 'string', default: '200' },
    calls: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '6' },
    'latency-ms': { type: 'string', default: '500,20' },
    out: { type: 'string', default: '' },
    arrivals: { type: 'string', default: 'burst,spread' },
  },
});
const ROLLOUTS = Number(values.rollouts);
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);
const LATENCIES = values['latency-ms'].split(',').map(Number);
type Arrivals = 'burst' | 'spread';
const ARRIVALS = values.arrivals.split(',').map((a) => {
  if (a !== 'burst' && a !== 'spread') throw new Error(`--arrivals: expected burst and/or spread, got '${a}'`);
  return a as Arrivals;
});

const root = resolve(import.meta.dirname, '..', '..');

async function startUpstream(latency: number): Promise<{ baseUrl: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/testing/test-server-main.ts', '--latency-ms', String(latency)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const baseUrl = await new Promise<string>((ok, fail) => {
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /listening (\S+)/.exec(text);
      if (m) ok(m[1]!);
    });
    child.on('exit', (code) => fail(new Error(`test server exited with ${code}`)));
  });
  return { baseUrl, child };
}

const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

function post(url: URL, body: string, headers: Record<string, string>): Promise<string> {
  return new Promise((ok, fail) => {
    const req = request(
      { hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? ok(Buffer.concat(chunks).toString()) : fail(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString()}`))));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

/**
 * The floor: a bare node:http pass-through (no JSON parsing, no recording, no SSE) to the same
 * upstream, so the table separates the cost of an HTTP hop from the cost of what the proxy does.
 */
async function startPassThrough(upstream: string): Promise<{ url: string; server: Server }> {
  const target = new URL(upstream);
  const upstreamAgent = new Agent({ keepAlive: true, maxSockets: 1024 });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const out = request(
        { hostname: target.hostname, port: target.port, path: `${target.pathname}/chat/completions`, method: 'POST', agent: upstreamAgent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (up) => {
          const parts: Buffer[] = [];
          up.on('data', (c: Buffer) => parts.push(c));
          up.on('end', () => {
            const text = Buffer.concat(parts);
            res.writeHead(up.statusCode ?? 502, { 'content-type': 'application/json', 'content-length': text.length });
            res.end(text);
          });
        },
      );
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.on('close', () => upstreamAgent.destroy());
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}/v1`, server };
}

/** One agent: `CALLS` sequential chat calls, each with the history so far; returns per-call ms. */
async function rollout(url: URL, headers: Record<string, string>, i: number, withTokens: boolean): Promise<number[]> {
  const messages: { role: string; content: string }[] = [
    { role: 'system', content: 'You are a helpful agent. Use tools when useful.' },
    { role: 'user', content: `Task ${i}: find the capital of the country whose name starts with ${String.fromCharCode(65 + (i % 26))}.` },
  ];
  const times: number[] = [];
  for (let c = 0; c < CALLS; c++) {
    // Direct calls ask for the same token ids and logprobs the proxy adds, so both get the same answer size.
    const body = JSON.stringify({ model: 'test-model', messages, max_tokens: 64, ...(withTokens ? { return_token_ids: true, logprobs: true } : {}) });
    const t = performance.now();
    const text = await post(url, body, headers);
    times.push(performance.now() - t);
    const content = (JSON.parse(text) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
    messages.push({ role: 'assistant', content }, { role: 'user', content: `observation ${c}: nothing found yet` });
  }
  return times;
}

type Mode = 'direct' | 'passthrough' | 'proxy';

interface RoundResult {
  mode: Mode;
  times: number[];
  cpuUs: number;
  wallMs: number;
}

/**
 * `burst`: every rollout starts at once, so with a fixed upstream latency the calls keep arriving in
 * bursts of `rollouts` (the worst case, and what a GRPO step against a batching engine looks like).
 * `spread`: rollout i starts i·latency/rollouts ms late, so the same number of rollouts is in flight
 * but their calls arrive evenly (steady state of independent agents).
 */
async function round(mode: Mode, upstream: string, passthrough: string, proxy: AgentProxy, rollouts: number, arrivals: Arrivals, latency: number): Promise<RoundResult> {
  const sessions = mode === 'proxy' ? Array.from({ length: rollouts }, () => proxy.open({ upstream: { baseUrl: upstream } })) : [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const all = await Promise.all(
    Array.from({ length: rollouts }, async (_, i) => {
      if (arrivals === 'spread' && i > 0) await sleep((i * latency) / rollouts);
      return mode !== 'proxy'
        ? rollout(new URL(`${mode === 'direct' ? upstream : passthrough}/chat/completions`), {}, i, true)
        : rollout(new URL(`${proxy.url}/v1/chat/completions`), { [ROLLOUT_ID_HEADER]: sessions[i]!.id }, i, false);
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  for (const s of sessions) {
    if (s.calls.length !== CALLS || s.calls.some((c) => c.error)) throw new Error(`session ${s.id} recorded ${s.calls.length} calls`);
    await s.close();
  }
  return { mode, times: all.flat(), cpuUs: cpu.user + cpu.system, wallMs };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function summarize(results: RoundResult[], mode: Mode) {
  const rounds = results.filter((r) => r.mode === mode);
  const times = rounds.flatMap((r) => r.times).sort((a, b) => a - b);
  const calls = times.length;
  return {
    calls,
    mean: mean(times),
    p50: pct(times, 0.5),
    p90: pct(times, 0.9),
    p99: pct(times, 0.99),
    cpuUsPerCall: rounds.reduce((a, r) => a + r.cpuUs, 0) / calls,
    callsPerS: calls / (rounds.reduce((a, r) => a + r.wallMs, 0) / 1000),
  };
}

async function scenario(upstream: string, passthrough: string, proxy: AgentProxy, rollouts: number, arrivals: Arrivals, latency: number) {
  const modes: Mode[] = ['direct', 'passthrough', 'proxy'];
  // Warm-up (connections, JIT), not measured.
  for (const mode of modes) await round(mode, upstream, passthrough, proxy, Math.min(rollouts, 20), arrivals, latency);
  const results: RoundResult[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate the order in each round so drift does not favour one contender.
    const order = modes.map((_, k) => modes[(k + r) % modes.length]!);
    for (const mode of order) results.push(await round(mode, upstream, passthrough, proxy, rollouts, arrivals, latency));
  }
  return { direct: summarize(results, 'direct'), passthrough: summarize(results, 'passthrough'), proxy: summarize(results, 'proxy') };
}

const proxy = await startAgentProxy({});
const rows: string[] = [];
const f = (x: number, d = 2) => x.toFixed(d);
try {
  for (const latency of LATENCIES) {
    const { baseUrl, child } = await startUpstream(latency);
    const pass = await startPassThrough(baseUrl);
    try {
      const cases: [number, Arrivals][] = [[1, 'burst'], ...ARRIVALS.map((a): [number, Arrivals] => [ROLLOUTS, a])];
      for (const [rollouts, arrivals] of cases) {
        const s = await scenario(baseUrl, pass.url, proxy, rollouts, arrivals, latency);
        const three = (pick: (x: typeof s.direct) => number, d = 2) => `${f(pick(s.direct), d)} / ${f(pick(s.passthrough), d)} / ${f(pick(s.proxy), d)}`;
        const line = `| ${latency} | ${rollouts} | ${rollouts === 1 ? '–' : arrivals} | ${s.direct.calls} | ${three((x) => x.mean)} | **${f(s.proxy.mean - s.direct.mean, 3)}** / ${f(s.proxy.mean - s.passthrough.mean, 3)} | ${three((x) => x.p50)} | ${three((x) => x.p99)} | ${three((x) => x.cpuUsPerCall, 0)} | **${f(s.proxy.cpuUsPerCall - s.direct.cpuUsPerCall, 0)}** / ${f(s.proxy.cpuUsPerCall - s.passthrough.cpuUsPerCall, 0)} | ${f(s.proxy.callsPerS / s.direct.callsPerS, 3)} |`;
        rows.push(line);
        process.stdout.write(`${line}\n`);
      }
    } finally {
      pass.server.close();
      pass.server.closeAllConnections();
      child.kill('SIGTERM');
    }
  }
} finally {
  await proxy.close();
  agent.destroy();
}

const command = `npx tsx bench/proxy/proxy-overhead.ts --rollouts ${ROLLOUTS} --calls ${CALLS} --rounds ${ROUNDS} --latency-ms ${LATENCIES.join(',')} --arrivals ${ARRIVALS.join(',')}${values.out ? ` --out ${values.out}` : ''}`;
const report = `# Proxy overhead per model call

Reproduce: \`${command}\`

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' / ')}.
Upstream: keiko's test server in its own process (token ids + logprobs in every answer, a fixed latency standing in for
the model). Each rollout makes ${CALLS} sequential chat calls with a growing history. Direct calls ask for the same
\`return_token_ids\`/\`logprobs\` the proxy adds, so both get identical answers. Contenders alternate round by round
(${ROUNDS} measured rounds each, after a warm-up). Three contenders, "direct / pass-through / proxy" in each cell:
direct calls to the upstream; a bare node:http pass-through (one HTTP hop, no parsing or recording: the floor for any
proxy); keiko's proxy (parses, adds token flags, records). Overheads are "proxy − direct / proxy − pass-through".
CPU is this process's (load generator + forwarder) user+system time per call.

| upstream latency ms | concurrent rollouts | arrivals | calls per contender | mean ms | mean overhead ms | p50 ms | p99 ms | CPU µs/call | CPU overhead µs/call | throughput proxy/direct |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
if (values.out) writeFileSync(values.out, report);
process.stdout.write(report);
