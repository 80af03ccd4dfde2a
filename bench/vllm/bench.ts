// vLLM (CPU build) vs keiko's engine, side by side on the same model and batch, at a few model sizes:
// sampling tokens/s, and weight-sync latency (engine export + vLLM pause/reload/reset/resume) against
// the floor of writing and reading the same bytes. Usage (after `keiko vllm setup`):
//   PYTHONPATH=$PWD/engine npx tsx bench/vllm/bench.ts [--sizes 2x128,4x256] [--out bench/vllm/results-cpu.json]
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient } from '../../src/engine/client.js';
import { pauseGeneration, reloadWeights, resetPrefixCache, resumeGeneration } from '../../src/engine/vllm/admin.js';
import { VllmServer } from '../../src/engine/vllm/server.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const sizes = arg('sizes', '2x128,4x256').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const out = arg('out', join(import.meta.dirname, 'results-cpu.json'));
const PROMPTS = Number(arg('prompts', '16'));
const SAMPLES = Number(arg('samples', '4'));
const TOKENS = Number(arg('tokens', '32'));

/** Sends every prompt at once (each with n samples) and returns sampled tokens per second. */
async function sampleRate(baseUrl: string, model: string, prompts: number[][]): Promise<number> {
  const t0 = performance.now();
  const counts = await Promise.all(
    prompts.map(async (prompt, k) => {
      const res = await fetch(`${baseUrl}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, prompt, n: SAMPLES, max_tokens: TOKENS, temperature: 1, seed: k, ignore_eos: true, return_token_ids: true }),
      });
      if (!res.ok) throw new Error(`${baseUrl}: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { choices: { token_ids: number[] }[] };
      return body.choices.reduce((a, c) => a + c.token_ids.length, 0);
    }),
  );
  return counts.reduce((a, b) => a + b, 0) / ((performance.now() - t0) / 1000);
}

/** Seconds to write `bytes` to a file with fsync and read it back: the floor of a sync through the filesystem. */
function ioFloor(dir: string, bytes: number): number {
  const path = join(dir, 'floor.bin');
  const chunk = Buffer.alloc(Math.min(bytes, 1 << 24), 1);
  const t0 = performance.now();
  const fd = openSync(path, 'w');
  for (let left = bytes; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(left, chunk.length));
  fsyncSync(fd);
  closeSync(fd);
  readFileSync(path);
  const seconds = (performance.now() - t0) / 1000;
  rmSync(path);
  return seconds;
}

const root = mkdtempSync(join(tmpdir(), 'keiko-bench-vllm-'));
const results: Record<string, unknown>[] = [];
try {
  const corpus = join(root, 'corpus.txt');
  writeFileSync(corpus, Array.from({ length: 400 }, (_, i) => `what is ${i % 10} + ${(i * 7) % 10} ? the answer is ${(i % 10) + ((i * 7) % 10)}`).join('\n'));
  for (const [layers, hidden] of sizes) {
    const model = join(root, `m-${layers}x${hidden}`);
    await EngineClient.createModel({ out: model, corpus: [corpus], layers, hidden, heads: hidden / 32, vocabSize: 512, seed: 0 });
    const engine = await EngineClient.spawn({ model, threads: 1, restart: false, startupTimeoutMs: 600_000, env: { OMP_NUM_THREADS: '1' } });
    const server = await VllmServer.start({ model, dtype: 'float32', extraArgs: ['--enforce-eager'], env: { VLLM_CPU_OMP_THREADS_BIND: 'nobind', OMP_NUM_THREADS: '1' }, logFile: join(root, `vllm-${layers}x${hidden}.log`) });
    try {
      const info = await engine.info();
      const prompts = Array.from({ length: PROMPTS }, (_, k) => Array.from({ length: 12 }, (_, i) => 10 + ((k * 13 + i * 7) % 200)));
      await sampleRate(engine.url, 'keiko-engine', prompts.slice(0, 2)); // warm-up
      await sampleRate(server.url, 'keiko-policy', prompts.slice(0, 2));
      const engineRate = await sampleRate(engine.url, 'keiko-engine', prompts);
      const vllmRate = await sampleRate(server.url, 'keiko-policy', prompts);
      const syncs: { export: number; reload: number }[] = [];
      let bytes = 0;
      for (let i = 0; i < 3; i++) {
        const exported = await engine.exportWeights({ path: join(root, 'sync') });
        bytes = exported.bytes;
        const t0 = performance.now();
        await pauseGeneration(server.url);
        await reloadWeights(server.url, exported.path);
        await resetPrefixCache(server.url);
        await resumeGeneration(server.url);
        syncs.push({ export: exported.seconds, reload: (performance.now() - t0) / 1000 });
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const row = {
        model: `${layers}x${hidden}`,
        parameters: info.parameters,
        syncBytes: bytes,
        engineTokensPerS: Math.round(engineRate),
        vllmTokensPerS: Math.round(vllmRate),
        vllmOverEngine: Number((vllmRate / engineRate).toFixed(2)),
        syncExportS: Number(median(syncs.map((s) => s.export)).toFixed(3)),
        syncReloadS: Number(median(syncs.map((s) => s.reload)).toFixed(3)),
        writeReadFloorS: Number(ioFloor(root, bytes).toFixed(3)),
      };
      results.push(row);
      console.log(JSON.stringify(row));
    } finally {
      await server.stop();
      await engine.stop();
    }
  }
  const meta = { batch: { prompts: PROMPTS, samples: SAMPLES, tokens: TOKENS }, cpus: cpus().length, loadavg1m: loadavg()[0], date: new Date().toISOString() };
  writeFileSync(out, JSON.stringify({ meta, results }, null, 2) + '\n');
  console.log(JSON.stringify(meta));
} finally {
  rmSync(root, { recursive: true, force: true });
}
