import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError, SamplerError } from '../core/errors.js';
import type { ChatResponse } from '../core/sampler.js';
import { EngineClient } from './client.js';
import { defaultEnginePython } from './process.js';

// Integration test against the real Python engine on a tiny model created here. Skipped (with a
// reason) only when engine/.venv is missing, i.e. scripts/setup.sh has not been run.
let python: string | undefined;
try {
  python = defaultEnginePython();
} catch {
  python = undefined;
}

const CORPUS = [
  'the quick brown fox jumps over the lazy dog',
  'hello world, this is keiko practising reinforcement learning',
  '1 + 2 = 3; 2 + 2 = 4; 10 - 3 = 7',
  'user asks, assistant answers, tools help',
];

describe.skipIf(!python)('EngineClient with a real engine', () => {
  let dir: string;
  let engine: EngineClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keiko-engine-'));
    const corpus = join(dir, 'corpus.txt');
    writeFileSync(corpus, Array.from({ length: 30 }, () => CORPUS.join('\n')).join('\n'));
    const model = await EngineClient.createModel({ out: join(dir, 'tiny'), corpus: [corpus], vocabSize: 300, hidden: 32, layers: 2, heads: 4, maxContext: 256 });
    engine = await EngineClient.spawn({ model, threads: 1, device: 'cpu', checkpointRoots: [dir], startupTimeoutMs: 180_000 });
  }, 300_000);

  afterAll(async () => {
    await engine?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports info', async () => {
    const info = await engine.info();
    expect(info.architecture).toBe('Qwen2ForCausalLM');
    expect(info.step).toBe(0);
    expect(info.threads).toBe(1);
    expect(info.parameters).toBeGreaterThan(1000);
  });

  it('samples with token ids and logprobs, trains on them, and serves the new weights', async () => {
    const sampler = engine.sampler();
    const res = await sampler.chat({
      messages: [{ role: 'user', content: 'hello world' }],
      sampling: { maxTokens: 12, temperature: 1, seed: 5 },
      n: 2,
    });
    expect(res.policyVersion).toBe(0);
    expect(res.choices).toHaveLength(2);
    const tokens = res.choices[0]!.tokens!;
    expect(tokens.promptIds.length).toBeGreaterThan(3);
    expect(tokens.completionIds.length).toBe(tokens.completionLogprobs.length);
    expect(tokens.completionLogprobs.every((l) => l <= 0)).toBe(true);

    // Train on the sampled turn with its own sampler logprobs: on-policy, so the ratio is 1.
    const ids = [...tokens.promptIds, ...tokens.completionIds];
    const lossMask = ids.map((_, i) => (i >= tokens.promptIds.length ? 1 : 0)) as (0 | 1)[];
    const samplerLogprobs = [...tokens.promptIds.map(() => 0), ...tokens.completionLogprobs];
    const fb = await engine.forwardBackward({
      sequences: [{ inputIds: ids, lossMask, advantages: 1, samplerLogprobs }],
      loss: { type: 'grpo', epsLow: 0.2, epsHigh: 0.28 },
    });
    expect(fb.nonfinite).toBe(false);
    expect(fb.tokens).toBe(tokens.completionIds.length);
    expect(fb.loss).toBeCloseTo(-1, 3); // -A * ratio, ratio = 1 within the sampler/trainer tolerance
    expect(fb.clipFraction).toBe(0);
    const step = await engine.optimStep({ lr: 1e-2 });
    expect(step).toMatchObject({ step: 1, skipped: false });
    expect(step.gradNorm).toBeGreaterThan(0);

    const again = await sampler.chat({ messages: [{ role: 'user', content: 'hello world' }], sampling: { maxTokens: 4 } });
    expect(again.policyVersion).toBe(1);
  });

  it('samples several requests in one chatMany call: n distinct samples each, exactly as chat() returns them', async () => {
    const sampler = engine.sampler();
    const requests = [
      { messages: [{ role: 'user' as const, content: '1 + 2 =' }], sampling: { maxTokens: 8, temperature: 1, seed: 11 }, n: 3 },
      { messages: [{ role: 'user' as const, content: 'hello world' }], sampling: { maxTokens: 8, temperature: 1, seed: 12 }, n: 2 },
      { messages: [{ role: 'user' as const, content: 'x' }], sampling: { maxTokens: 100_000 } }, // over the context: fails alone
    ];
    const results = await sampler.chatMany(requests);
    expect(results).toHaveLength(3);
    expect(results[2]).toBeInstanceOf(SamplerError);
    expect((results[2] as SamplerError).message).toMatch(/requests\[2\].*max_context/);
    for (const k of [0, 1]) {
      const batched = results[k] as ChatResponse;
      const single = await sampler.chat(requests[k]!);
      expect(batched.choices).toHaveLength(requests[k]!.n!);
      // same ids; logprobs equal up to float rounding (the batch pads prompts to a common width)
      expect(batched.choices.map((c) => [c.tokens!.promptIds, c.tokens!.completionIds])).toEqual(single.choices.map((c) => [c.tokens!.promptIds, c.tokens!.completionIds]));
      batched.choices.forEach((c, i) => c.tokens!.completionLogprobs.forEach((lp, t) => expect(lp).toBeCloseTo(single.choices[i]!.tokens!.completionLogprobs[t]!, 4)));
      expect(batched.choices.map((c) => c.message.content)).toEqual(single.choices.map((c) => c.message.content));
      expect(new Set(batched.choices.map((c) => c.tokens!.completionIds.join(','))).size).toBe(requests[k]!.n);
    }
  });

  it('rejects bad training input with an EngineError and keeps serving', async () => {
    await expect(engine.forwardBackward({ sequences: [{ inputIds: [1, 99999], lossMask: [0, 1] }], loss: { type: 'sft' } })).rejects.toThrow(
      EngineError,
    );
    await expect(engine.optimStep({ lr: 1e-3 })).rejects.toThrow(/no_gradients/);
    expect(await engine.health()).toBe(true);
  });

  it('saves a checkpoint and restarts from it when the process dies', async () => {
    const ckpt = join(dir, 'ckpt');
    const saved = await engine.save({ path: ckpt });
    expect(saved.step).toBe(1);
    expect(existsSync(join(ckpt, 'model.safetensors'))).toBe(true);
    const pid = engine.pid!;
    process.kill(pid, 'SIGKILL');
    // Once the supervisor has seen the exit (it starts a new process), the next call waits for the
    // restart, which resumes from the last checkpoint (step 1).
    for (let i = 0; i < 100 && engine.pid === pid; i++) await new Promise((r) => setTimeout(r, 100));
    const info = await engine.info();
    expect(engine.pid).not.toBe(pid);
    expect(info.step).toBe(1);
  }, 240_000);

  it('with restart: false stays down when killed until restart(), which starts from the spawned model', async () => {
    const own = await EngineClient.spawn({ model: join(dir, 'tiny'), threads: 1, device: 'cpu', reference: 'none', loraRank: 2, loraAlpha: 4, restart: false, checkpointRoots: [dir], startupTimeoutMs: 180_000 });
    try {
      const url = own.url;
      const before = await own.info();
      expect(before.lora?.alpha).toBe(4);
      await own.save({ path: join(dir, 'own-ckpt') });
      const pid = own.pid!;
      const exited = new Promise((r) => setTimeout(r, 500));
      process.kill(pid, 'SIGKILL');
      await exited;
      // No automatic restart: the call fails as unreachable (an EngineError without a status).
      const down = await own.info().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(down).toBeInstanceOf(EngineError);
      expect((down as EngineError).status).toBeUndefined();
      await own.restart();
      expect(own.pid).not.toBe(pid);
      expect(own.url).toBe(url);
      const info = await own.info();
      expect(info.model).toBe(before.model); // not the checkpoint saved above
      expect(info.lora?.alpha).toBe(4);
    } finally {
      await own.stop();
    }
  }, 240_000);

  it('refuses restart() on a connected engine', async () => {
    const connected = await EngineClient.connect({ url: engine.url });
    await expect(connected.restart()).rejects.toThrow(/spawned/);
  });
});
