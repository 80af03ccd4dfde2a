import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineClient } from './client.js';
import { defaultEnginePython, EngineProcess, serveArgs } from './process.js';

const base = { model: 'm', host: '127.0.0.1', port: 8000 };

describe('serveArgs', () => {
  it('runs one process by default, with only the flags that are set', () => {
    expect(serveArgs({ ...base, threads: 2 }, 'm')).toEqual(['-m', 'keiko_engine', 'serve', '--model', 'm', '--host', '127.0.0.1', '--port', '8000', '--threads', '2']);
    expect(serveArgs({ ...base, ranks: 1 }, 'm')[1]).toBe('keiko_engine');
  });

  it('passes every engine setting a user can give: dtype, LoRA rank and alpha, micro-batch size, activation checkpointing', () => {
    const args = serveArgs({ ...base, dtype: 'bfloat16', loraRank: 8, loraAlpha: 32, microBatchSize: 4, maxBatchRows: 16, activationCheckpointing: true }, 'm');
    expect(args.slice(9)).toEqual(['--dtype', 'bfloat16', '--lora-rank', '8', '--lora-alpha', '32', '--micro-batch-size', '4', '--max-batch-rows', '16', '--activation-checkpointing']);
    expect(serveArgs({ ...base, activationCheckpointing: false }, 'm')).not.toContain('--activation-checkpointing');
    expect(serveArgs({ ...base, loraAlpha: 32 }, 'm')).not.toContain('--lora-alpha'); // alpha only means something with a rank
  });

  it('launches torchrun for more than one rank', () => {
    expect(serveArgs({ ...base, ranks: 2, distTimeoutS: 60 }, 'm')).toEqual([
      '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
      '-m', 'keiko_engine', 'serve', '--model', 'm', '--host', '127.0.0.1', '--port', '8000', '--dist-timeout', '60',
    ]);
    expect(serveArgs({ ...base, ranks: 2, shardedOptimizer: true }, 'm').at(-1)).toBe('--sharded-optimizer');
    expect(serveArgs({ ...base, shardedOptimizer: true }, 'm')).not.toContain('--sharded-optimizer'); // one process has nothing to shard
  });

  it('passes a multi-node rendezvous through', () => {
    const args = serveArgs({ ...base, ranks: 4, nodes: { count: 2, rank: 1, masterAddr: '10.0.0.1', masterPort: 29500 } }, 'm');
    expect(args.slice(0, 12)).toEqual([
      '-m', 'torch.distributed.run', '--nnodes', '2', '--node_rank', '1', '--master_addr', '10.0.0.1', '--master_port', '29500', '--nproc_per_node', '4',
    ]);
  });
});

describe('EngineProcess', () => {
  it('stops an engine that does not become healthy in time, instead of leaving it running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-unhealthy-'));
    try {
      // A stand-in 'python' that starts and never answers: the edge a wedged engine presents.
      const fake = join(dir, 'python');
      writeFileSync(fake, '#!/bin/sh\nexec sleep 60\n', { mode: 0o755 });
      const engine = new EngineProcess({ model: 'm', host: '127.0.0.1', port: 9, python: fake, startupTimeoutMs: 300, restart: false }, async () => false, () => 'm');
      const started = engine.start('m');
      const pid = engine.pid!;
      expect(pid).toBeGreaterThan(0);
      await expect(started).rejects.toThrow(/not healthy after 300 ms \(stopped it\)/);
      expect(() => process.kill(pid, 0)).toThrow(); // gone, not orphaned
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

let python: string | undefined;
try {
  python = defaultEnginePython();
} catch {
  python = undefined;
}

/** Pids of the processes whose command line mentions `needle` (only ours: the needle is a fresh temp dir). */
function processesMentioning(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(needle) && !l.includes('ps -eo')).map((l) => l.trim().split(/\s+/)[0]!);
}

// Integration: an engine on 2 CPU ranks (torchrun, gloo) spawned and stopped from TypeScript.
describe.skipIf(!python)('EngineClient on 2 ranks', () => {
  let dir: string;
  let engine: EngineClient | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keiko-ranks-'));
    const corpus = join(dir, 'corpus.txt');
    writeFileSync(corpus, Array.from({ length: 30 }, () => 'the quick brown fox jumps over the lazy dog\n1 + 2 = 3').join('\n'));
    const model = await EngineClient.createModel({ out: join(dir, 'tiny'), corpus: [corpus], vocabSize: 300, hidden: 32, layers: 2, heads: 4, maxContext: 128 });
    engine = await EngineClient.spawn({ model, threads: 1, device: 'cpu', ranks: 2, restart: false, startupTimeoutMs: 240_000 });
  }, 300_000);

  afterAll(async () => {
    await engine?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('trains, refuses to sample, restarts and stops every rank', async () => {
    expect((await engine!.info()).ranks).toBe(2);
    const fb = await engine!.forwardBackward({ sequences: [{ inputIds: [5, 6, 7, 8], lossMask: [0, 1, 1, 1] }, { inputIds: [5, 9, 10], lossMask: [0, 1, 1] }], loss: { type: 'sft' } });
    expect(fb.tokens).toBe(5);
    expect((await engine!.optimStep({ lr: 1e-3 })).step).toBe(1);
    await expect(engine!.sampler().chat({ messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow(/sampling_unavailable|does not sample/);
    expect(processesMentioning(dir).length).toBeGreaterThanOrEqual(3); // torchrun + 2 ranks
    // a restart stops every rank first (the new rank 0 binds the same port) and starts from the model
    await engine!.restart();
    expect((await engine!.info()).step).toBe(0);
    await engine!.stop();
    engine = undefined;
    expect(processesMentioning(dir)).toEqual([]);
  }, 240_000);
});
