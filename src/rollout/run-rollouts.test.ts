import { mkdtemp, readFile, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SamplerError } from '../core/errors.js';
import { lastAssistantText, type ChatMessage } from '../core/messages.js';
import type { Environment, ScoreInput } from '../core/environment.js';
import { singleTurnEnv } from '../envs/single-turn-env.js';
import { rubric } from '../rubrics/rubric.js';
import { ScriptedSampler } from '../testing/scripted-sampler.js';
import { readResultsFile } from './results-file.js';
import { runRollouts } from './run-rollouts.js';

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `q${i}`, question: `say ${i}`, answer: String(i) }));
const exact = ({ completion, answer }: ScoreInput) => lastAssistantText(completion) === answer;
const makeEnv = (n: number, funcs: Parameters<typeof rubric>[0]['funcs'] = [{ name: 'exact', fn: exact }]) =>
  singleTurnEnv({ name: 'say', dataset: rows(n), rubric: rubric({ funcs }) });
const userText = (messages: ChatMessage[]) => messages.filter((m) => m.role === 'user').at(-1)!.content;
/** Answers the number in "say N" correctly. */
const solver = () => new ScriptedSampler({ respond: (req) => userText(req.messages).replace('say ', '') });
const tmp = () => mkdtemp(join(tmpdir(), 'keiko-rollouts-'));

describe('runRollouts', () => {
  it('runs groupSize samples per example, scores them and returns them in order', async () => {
    const sampler = solver();
    const results = await runRollouts({ env: makeEnv(3), sampler, groupSize: 2, concurrency: 4 });
    expect(results.map((r) => `${r.exampleId}/${r.sample}`)).toEqual(['q0/0', 'q0/1', 'q1/0', 'q1/1', 'q2/0', 'q2/1']);
    expect(results.every((r) => r.reward === 1 && r.metrics.exact === 1 && r.stopReason === 'terminated')).toBe(true);
    expect(results[0]!.answer).toBe('0');
    expect(results[0]!.completion).toEqual([{ role: 'assistant', content: '0' }]);
    expect(results[0]!.timing.totalMs).toBeGreaterThanOrEqual(results[0]!.timing.generationMs);
    expect(sampler.calls).toHaveLength(6);
  });

  it('keeps generation and scoring under separate limits and overlaps them', async () => {
    let genActive = 0;
    let genMax = 0;
    let scoreActive = 0;
    let scoreMax = 0;
    let generationsDone = 0;
    const generatedAtFirstScore: number[] = [];
    const sampler = new ScriptedSampler({
      respond: async (req) => {
        genMax = Math.max(genMax, ++genActive);
        await new Promise((r) => setTimeout(r, 5));
        genActive--;
        generationsDone++;
        return userText(req.messages).replace('say ', '');
      },
    });
    const slowScore = async (input: ScoreInput) => {
      generatedAtFirstScore.push(generationsDone);
      scoreMax = Math.max(scoreMax, ++scoreActive);
      await new Promise((r) => setTimeout(r, 15));
      scoreActive--;
      return exact(input);
    };
    const results = await runRollouts({ env: makeEnv(20, [{ name: 'slow', fn: slowScore }]), sampler, concurrency: { generation: 4, scoring: 2 } });
    expect(results).toHaveLength(20);
    expect(genMax).toBe(4);
    expect(scoreMax).toBe(2);
    // Scoring began long before generation finished.
    expect(generatedAtFirstScore[0]).toBeLessThan(10);
  });

  it('records a failed rollout on itself and goes on', async () => {
    const sampler = new ScriptedSampler({
      respond: (req) => {
        const text = userText(req.messages);
        if (text === 'say 1') return new SamplerError('server down', { status: 500, retryable: false });
        return text.replace('say ', '');
      },
    });
    const results = await runRollouts({ env: makeEnv(3), sampler });
    expect(results.map((r) => r.reward)).toEqual([1, 0, 1]);
    expect(results[1]!.stopReason).toBe('error');
    expect(results[1]!.error).toMatchObject({ code: 'sampler_error', message: 'server down' });
    expect(results[1]!.metrics).toEqual({ exact: 0 });
  });

  it('retries rollouts that failed with a sampler error when retries > 0', async () => {
    let failures = 1;
    const sampler = new ScriptedSampler({
      respond: (req) => (failures-- > 0 ? new SamplerError('flaky') : userText(req.messages).replace('say ', '')),
    });
    const results = await runRollouts({ env: makeEnv(1), sampler, retries: 1 });
    expect(results[0]!.reward).toBe(1);
    expect(results[0]!.error).toBeUndefined();
    expect(sampler.calls).toHaveLength(2);
  });

  it('times out a rollout and records why', async () => {
    const sampler = new ScriptedSampler({ respond: () => 'late', latencyMs: 5_000 });
    const t0 = performance.now();
    const [result] = await runRollouts({ env: makeEnv(1), sampler, timeoutMs: 50 });
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(result!.error).toMatchObject({ code: 'rollout_timeout' });
    expect(result!.reward).toBe(0);
  });

  it('records an environment that throws instead of failing the run', async () => {
    const env = makeEnv(2);
    const broken: Environment = { ...env, name: env.name, dataset: env.dataset, rubric: env.rubric, rollout: async () => Promise.reject(new Error('bug in env')) };
    const results = await runRollouts({ env: broken, sampler: solver() });
    expect(results).toHaveLength(2);
    expect(results[0]!.error).toMatchObject({ code: 'env_error' });
    expect(results[0]!.error!.message).toContain('bug in env');
  });

  it('records a rubric that throws as a scoring error with reward 0', async () => {
    const boom = () => {
      throw new Error('bad reward');
    };
    const [result] = await runRollouts({ env: makeEnv(1, [{ name: 'boom', fn: boom }, { name: 'exact', fn: exact, weight: 0 }]), sampler: solver() });
    expect(result!.reward).toBe(0);
    expect(result!.metrics).toEqual({ boom: 0, exact: 1 });
    expect(result!.scoringErrors!.boom).toContain('bad reward');
  });

  it('scores group-level rubrics once per complete group', async () => {
    const groupSizes: number[] = [];
    const rank = (inputs: ScoreInput[]) => {
      groupSizes.push(inputs.length);
      return inputs.map((_, i) => i / (inputs.length - 1));
    };
    const results = await runRollouts({ env: makeEnv(3, [{ name: 'rank', groupFn: rank }]), sampler: solver(), groupSize: 3, concurrency: 2 });
    expect(groupSizes).toEqual([3, 3, 3]);
    expect(results.filter((r) => r.exampleId === 'q1').map((r) => r.reward)).toEqual([0, 0.5, 1]);
  });

  it('derives each rollout rng from seed, example and sample only', async () => {
    const draws = async (concurrency: number) => {
      const seen: Record<string, number> = {};
      const env = makeEnv(4);
      const wrapped: Environment = {
        ...env,
        name: env.name,
        dataset: env.dataset,
        rubric: env.rubric,
        rollout: (example, ctx) => {
          seen[`${example.id}`] = ctx.rng.nextU32();
          return env.rollout(example, ctx);
        },
      };
      await runRollouts({ env: wrapped, sampler: solver(), seed: 3, concurrency });
      return seen;
    };
    expect(await draws(1)).toEqual(await draws(4));
  });

  it('gives each group member its own reproducible sampling seed', async () => {
    const seeds = async () => {
      const sampler = solver();
      await runRollouts({ env: makeEnv(2), sampler, groupSize: 3, sampling: { seed: 7, temperature: 1 } });
      return sampler.chatRequests.map((r) => `${r.messages.at(-1)!.content}:${r.sampling!.seed}`).sort();
    };
    const first = await seeds();
    expect(new Set(first).size).toBe(6);
    expect(await seeds()).toEqual(first);
  });

  it('streams results to JSONL as they finish and refuses to overwrite without resume', async () => {
    const out = join(await tmp(), 'results.jsonl');
    const order: string[] = [];
    await runRollouts({ env: makeEnv(4), sampler: solver(), out, onResult: (r) => order.push(String(r.exampleId)) });
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.map((l) => (JSON.parse(l) as { exampleId: string }).exampleId)).toEqual(order);
    await expect(runRollouts({ env: makeEnv(4), sampler: solver(), out })).rejects.toThrow(/already has 4 results; pass resume/);
  });

  it('resumes after an interruption: skips recorded pairs and tolerates a torn last line', async () => {
    const out = join(await tmp(), 'results.jsonl');
    const env = makeEnv(5);
    const controller = new AbortController();
    let recorded = 0;
    const first = await runRollouts({
      env,
      sampler: solver(),
      out,
      groupSize: 2,
      concurrency: 1,
      signal: controller.signal,
      onResult: () => {
        if (++recorded === 3) controller.abort();
      },
    });
    expect(first.length).toBeGreaterThanOrEqual(3);
    expect(first.length).toBeLessThan(10);
    await appendFile(out, '{"schemaVersion":1,"exampleId":"q4","sam'); // a write cut off by a crash
    const sampler = solver();
    const progress: number[] = [];
    const all = await runRollouts({ env, sampler, out, groupSize: 2, resume: true, onProgress: (p) => progress.push(p.resumed) });
    expect(all).toHaveLength(10);
    expect(sampler.calls).toHaveLength(10 - first.length);
    expect(progress[0]).toBe(first.length);
    const file = await readResultsFile(out);
    expect(file.badLines).toEqual([]);
    expect(file.tornTail).toBe(false);
    expect(file.results).toHaveLength(10);
  });

  it('re-runs a partially recorded group when the rubric scores groups', async () => {
    const out = join(await tmp(), 'results.jsonl');
    const rank = (inputs: ScoreInput[]) => inputs.map(() => 1);
    const env = makeEnv(2, [{ name: 'rank', groupFn: rank }]);
    await runRollouts({ env, sampler: solver(), out, groupSize: 2 });
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    // Keep q0's group whole, drop one of q1's members.
    const kept = lines.filter((l) => !(l.includes('"exampleId":"q1"') && l.includes('"sample":1')));
    await writeFile(out, `${kept.join('\n')}\n`);
    const sampler = solver();
    const all = await runRollouts({ env, sampler, out, groupSize: 2, resume: true });
    expect(all).toHaveLength(4);
    expect(sampler.calls).toHaveLength(2); // both members of q1
  });

  it('rejects bad options with ConfigErrors', async () => {
    await expect(runRollouts({ env: makeEnv(1), sampler: solver(), groupSize: 0 })).rejects.toThrow(/groupSize/);
    await expect(runRollouts({ env: makeEnv(1), sampler: solver(), concurrency: { generation: 0 } })).rejects.toThrow(/concurrency.generation/);
    await expect(runRollouts({ env: makeEnv(1), sampler: solver(), resume: true })).rejects.toThrow(/resume needs `out`/);
  });
});
