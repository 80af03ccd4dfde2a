// The README's "Environments with tools, group rewards and a teacher" section runs as printed: the
// snippet is this folder's word-length.ts verbatim, and its tool, its group-level reward and its
// demonstrate() are exercised here (scripted sampler) and through `keiko eval`.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z as z3 } from 'zod/v3';
import { defineTool, runRollouts, type ChatMessage } from 'keiko';
import { ScriptedSampler } from 'keiko/testing';
import { countLetters, loadEnvironment } from './word-length.js';

const root = resolve(import.meta.dirname, '..', '..');

/** The README's fenced code blocks whose first line is `// <path>`. */
function readmeSnippet(path: string): string | undefined {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  for (const m of readme.matchAll(/```ts\n([\s\S]*?)```/g)) if (m[1]!.startsWith(`// ${path}\n`)) return m[1];
  return undefined;
}

const call = (word: unknown) => ({ content: null, tool_calls: [{ id: 'c1', type: 'function' as const, function: { name: 'count_letters', arguments: JSON.stringify({ word }) } }] });

describe('README: tool environment, group-level reward, demonstrate()', () => {
  it('prints word-length.ts verbatim', () => {
    expect(readmeSnippet('examples/readme/word-length.ts')).toBe(readFileSync(join(import.meta.dirname, 'word-length.ts'), 'utf8'));
  });

  it('defineTool turns the zod arguments into the tool schema and bad calls into messages for the model', async () => {
    expect(countLetters.schema.function).toMatchObject({ name: 'count_letters', parameters: { type: 'object', required: ['word'], properties: { word: { type: 'string' } } } });
    const env = loadEnvironment();
    const example = env.dataset[0]!; // "practice": 8 letters
    const ctx = { state: {}, example, rng: undefined as never };
    expect(await countLetters.call(JSON.stringify({ word: 'practice' }), ctx)).toEqual({ ok: true, content: '8' });
    const bad = await countLetters.call(JSON.stringify({ word: 3 }), ctx);
    expect(bad).toMatchObject({ ok: false, reason: 'invalid_args' });
    expect(bad.content).toMatch(/^Error: .*word/);
  });

  it('scores each group together: the right answers in the fewest turns get the group bonus', async () => {
    const env = loadEnvironment();
    const [example] = env.dataset;
    // Rollout 1: tool call, then the answer (2 turns). Rollout 2: a wasted bad call first (3 turns). Rollout 3: a wrong answer.
    const sampler = new ScriptedSampler({
      script: [call('practice'), '<answer>8</answer>', call(42), call('practice'), '<answer>8</answer>', '<answer>7</answer>'],
    });
    const results = await runRollouts({ env, sampler, examples: [example!], groupSize: 3, concurrency: 1 });
    sampler.assertDone({ allUsed: true });
    const byTurns = results.map((r) => ({ turns: r.completion.filter((m: ChatMessage) => m.role === 'assistant').length, correct: r.metrics['correct'], fewest: r.metrics['fewest_turns'], reward: r.reward }));
    expect(byTurns).toEqual([
      { turns: 2, correct: 1, fewest: 1, reward: 1.2 },
      { turns: 3, correct: 1, fewest: 0, reward: 1 },
      { turns: 1, correct: 0, fewest: 0, reward: 0 },
    ]);
    // the bad call came back to the model as a tool message, and the rollout went on
    expect(results[1]!.completion.find((m: ChatMessage) => m.role === 'tool')?.content).toMatch(/^Error: /);
  });

  it("demonstrate() gives conversations the environment's protocol accepts and its rubric rewards in full", async () => {
    const env = loadEnvironment();
    const rng = undefined as never;
    // Replay the teacher's assistant turns through a real rollout: every one must score 1.2.
    const replies = env.dataset.flatMap((e) => env.demonstrate!(e, rng).filter((m) => m.role === 'assistant').map((m) => (m.tool_calls ? { content: null, tool_calls: m.tool_calls } : m.content!)));
    const sampler = new ScriptedSampler({ script: replies });
    const results = await runRollouts({ env, sampler, examples: env.dataset, concurrency: 1 });
    sampler.assertDone({ allUsed: true });
    expect(results.map((r) => r.reward)).toEqual(env.dataset.map(() => 1.2));
  });

  it('refuses a zod 3 schema with a message that says keiko needs zod 4', () => {
    expect(() => defineTool({ name: 'old', parameters: z3.object({ word: z3.string() }) as never, execute: () => '' })).toThrow(/zod 4.*npm install zod@\^4/);
  });

  it('runs under `keiko eval` as an ES module imported by path', { timeout: 120_000 }, async () => {
    const out = await mkdtemp(join(tmpdir(), 'keiko-readme-'));
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'bin', 'keiko.js'), 'eval', '-e', 'examples/readme/word-length.ts', '--test-server', 'echo', '-n', '2', '-r', '2', '--out', out, '--json', '--no-progress'], { cwd: root });
      expect(stdout).toMatch(/"env": "word-length"/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
