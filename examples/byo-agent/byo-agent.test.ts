// The three bring-your-own-agent examples, unchanged, through the real CLI (./bin/keiko.js):
// `keiko eval` against the OpenAI-compatible test server (scripted to call the tool, so the tool
// round trip is checked) and against keiko's engine serving a tiny model created here, and
// `keiko train` for a few GRPO steps on that model.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RolloutResult } from '../../src/core/rollout-result.js';
import { callsToTurns, startAgentProxy } from '../../src/proxy/index.js';
import { EngineClient } from '../../src/engine/client.js';
import { defaultEnginePython } from '../../src/engine/process.js';
import type { TestServerRule } from '../../src/testing/test-server-rules.js';
import { startTestServer, type TestServer } from '../../src/testing/test-server.js';
import { additionTasks } from './tasks.js';

const root = resolve(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'keiko.js');
const AGENTS = ['fetch', 'ai-sdk', 'openai-agents'] as const;

function keiko(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, OPENAI_API_KEY: 'unused' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

function readResults(file: string): RolloutResult[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => RolloutResult.parse(JSON.parse(line)));
}

function onlyRunDir(runsDir: string): string {
  const entries = readdirSync(runsDir);
  expect(entries).toHaveLength(1);
  return join(runsDir, entries[0]!);
}

/** Calls `add` with the question's two numbers, then answers with the tool's result. */
const toolRule: TestServerRule = (request) => {
  const last = request.messages.at(-1);
  if (last?.role === 'tool') return `The answer is ${last.content.replace(/"/g, '')}.`;
  const m = /What is (\d+) \+ (\d+)/.exec(request.messages.find((x) => x.role === 'user')?.content ?? '');
  if (!m || !request.tools?.length) return 'I cannot tell.';
  return { content: null, tool_calls: [{ name: 'add', arguments: JSON.stringify({ a: Number(m[1]), b: Number(m[2]) }) }] };
};

describe('bring-your-own-agent examples with the test server', () => {
  let server: TestServer;
  let tmp: string;
  beforeAll(async () => {
    server = await startTestServer({ rule: toolRule, logRequests: false });
    tmp = mkdtempSync(join(tmpdir(), 'keiko-byo-'));
  });
  afterAll(async () => {
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  for (const agent of AGENTS) {
    it(`keiko eval runs the ${agent} agent through the tool round trip`, async () => {
      const out = join(tmp, agent);
      const run = await keiko(['eval', '-e', `examples/byo-agent/${agent}-env.ts`, '-b', server.baseUrl, '-m', 'test-model', '-n', '3', '-r', '2', '--no-progress', '--out', out]);
      expect(run.code, run.stderr).toBe(0);
      const results = readResults(join(onlyRunDir(out), 'results.jsonl'));
      expect(results).toHaveLength(6);
      const tasks = additionTasks({ count: 16, seed: 2 });
      for (const r of results) {
        expect(r.error).toBeUndefined();
        expect(r.metrics.correct).toBe(1);
        // Two model calls: the tool call, then the answer after the tool result.
        expect(r.turns).toHaveLength(2);
        expect(r.turns[0]!.completion.tool_calls?.[0]?.function.name).toBe('add');
        expect(r.turns[1]!.prompt.at(-1)?.role).toBe('tool');
        const answer = tasks.find((t) => t.id === r.exampleId)!.answer;
        expect(r.turns[1]!.prompt.at(-1)?.content?.replace(/"/g, '')).toBe(answer);
        for (const t of r.turns) expect(t.tokens?.completionIds.length).toBe(t.tokens?.completionLogprobs.length);
      }
    }, 120_000);
  }
});

let python: string | undefined;
try {
  python = defaultEnginePython();
} catch {
  python = undefined;
}

describe.skipIf(!python)('bring-your-own-agent examples with the real engine', () => {
  let tmp: string;
  let model: string;
  let engine: EngineClient;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'keiko-byo-engine-'));
    const corpus = join(tmp, 'corpus.txt');
    const lines = additionTasks({ count: 200, seed: 9 }).map((t) => `${t.question} The answer is ${t.answer}.`);
    writeFileSync(corpus, [...lines, 'You are a careful calculator. Use the add tool.', '<tool_call>{"name": "add", "arguments": {"a": 1, "b": 2}}</tool_call>'].join('\n'));
    model = await EngineClient.createModel({ out: join(tmp, 'tiny'), corpus: [corpus], vocabSize: 320, hidden: 32, layers: 2, heads: 4, maxContext: 512 });
    engine = await EngineClient.spawn({ model, threads: 1, device: 'cpu' });
  }, 300_000);

  afterAll(async () => {
    await engine?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('records exactly the ids and logprobs the engine returns (same request sent directly)', async () => {
    const proxy = await startAgentProxy({});
    try {
      const session = proxy.open({ upstream: { baseUrl: engine.openaiBaseUrl } });
      const body = { model: 'tiny', messages: [{ role: 'user', content: 'What is 2 + 3?' }], max_tokens: 8, temperature: 0, seed: 1 };
      const viaProxy = await fetch(`${session.baseURL}/chat/completions`, { method: 'POST', body: JSON.stringify(body) });
      expect(viaProxy.status).toBe(200);
      const recorded = session.calls[0]!;
      const direct = (await (await fetch(`${engine.openaiBaseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(recorded.request) })).json()) as Record<string, unknown>;
      const strip = (b: unknown) => {
        const { id: _id, created: _created, ...rest } = b as Record<string, unknown>;
        return rest;
      };
      expect(strip(recorded.response)).toEqual(strip(direct));
      const turn = callsToTurns({ calls: session.calls }).turns[0]!;
      const choice = (direct.choices as { token_ids: number[]; logprobs: { content: { logprob: number }[] } }[])[0]!;
      expect(turn.tokens?.promptIds).toEqual(direct.prompt_token_ids);
      expect(turn.tokens?.completionIds).toEqual(choice.token_ids);
      expect(turn.tokens?.completionLogprobs).toEqual(choice.logprobs.content.map((c) => c.logprob));
      await session.close();
    } finally {
      await proxy.close();
    }
  });

  for (const agent of AGENTS) {
    it(`keiko eval records the ${agent} agent's exact engine tokens`, async () => {
      const out = join(tmp, `eval-${agent}`);
      const run = await keiko(['eval', '-e', `examples/byo-agent/${agent}-env.ts`, '-b', engine.openaiBaseUrl, '-m', 'tiny', '-n', '2', '-r', '2', '-t', '8', '--seed', '3', '--no-progress', '--out', out]);
      expect(run.code, run.stderr).toBe(0);
      const results = readResults(join(onlyRunDir(out), 'results.jsonl'));
      expect(results).toHaveLength(4);
      for (const r of results) {
        // A tiny random model rarely calls tools well; agents may stop or fail, but every call is recorded.
        expect(r.turns.length).toBeGreaterThan(0);
        let completionTokens = 0;
        for (const t of r.turns) {
          expect(t.tokens).toBeDefined();
          expect(t.tokens!.completionIds.length).toBeGreaterThan(0);
          expect(t.tokens!.completionIds.length).toBeLessThanOrEqual(8); // the run's -t 8 replaced the agent's max_tokens
          expect(t.tokens!.completionLogprobs).toHaveLength(t.tokens!.completionIds.length);
          expect(t.tokens!.completionLogprobs.every((l) => Number.isFinite(l) && l <= 0)).toBe(true);
          expect(t.policyVersion).toBe(0);
          completionTokens += t.tokens!.completionIds.length;
        }
        expect(r.usage.completionTokens).toBe(completionTokens);
      }
    }, 180_000);
  }

  for (const agent of AGENTS) {
    it(`keiko train runs GRPO steps on the ${agent} agent, unchanged`, async () => {
      const runName = `train-${agent}`;
      const run = await keiko([
        'train',
        `--env=examples/byo-agent/${agent}-env.ts`,
        `--model=${model}`,
        '--steps=2',
        '--promptsPerStep=2',
        '--groupSize=2',
        '--maxTokens=8',
        '--maxTurns=3',
        '--zeroVariance=keep',
        '--sftSteps=0',
        '--evalExamples=1',
        '--checkpointEvery=off',
        '--device=cpu',
        '--threads=1',
        `--outDir=${tmp}`,
        `--runName=${runName}`,
      ]);
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      const metrics = readFileSync(join(tmp, runName, 'metrics.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { step: number; trainTokens: number; erroredRollouts: number });
      const steps = metrics.filter((m) => typeof m.trainTokens === 'number');
      expect(steps.map((m) => m.step)).toEqual([1, 2]);
      expect(steps.some((m) => m.trainTokens > 0)).toBe(true);
    }, 300_000);
  }
});
