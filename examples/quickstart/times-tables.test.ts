// Runs the README's quickstart exactly as documented: `keiko eval` on examples/quickstart/times-tables.ts
// against the built-in OpenAI-compatible test server, and checks the run folder it writes.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RolloutResult } from '../../src/core/index.js';
import { loadEnvironment } from './times-tables.js';

const root = resolve(import.meta.dirname, '..', '..');

describe('README quickstart', () => {
  it('builds a 20-example environment whose rubric rewards right answers and format', async () => {
    const env = loadEnvironment();
    expect(env.dataset).toHaveLength(20);
    const example = env.dataset[0]!;
    const score = (text: string) =>
      env.rubric.score({
        prompt: example.prompt, completion: [{ role: 'assistant', content: text }], answer: example.answer,
        info: {}, task: undefined, state: {}, turns: [], stopReason: 'terminated', parser: env.parser,
      });
    expect((await score(`<think>x</think><answer>${String(example.answer)}</answer>`)).reward).toBeCloseTo(1.2);
    expect((await score('<answer>-1</answer>')).metrics['correct']).toBe(0);
  });

  it('runs with `keiko eval … --test-server arithmetic` as the README shows', async () => {
    const out = await mkdtemp(join(tmpdir(), 'keiko-quickstart-'));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(root, 'bin', 'keiko.js'), 'eval', '-e', 'examples/quickstart/times-tables.ts', '--test-server', 'arithmetic', '-n', '20', '-r', '4', '--out', out, '--no-progress'],
      { cwd: root },
    );
    expect(stdout).toMatch(/pass@4\s+1\.000/);
    const [runId] = await readdir(out);
    const lines = (await readFile(join(out, runId!, 'results.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(80);
    const rewards = lines.map((l) => RolloutResult.parse(JSON.parse(l)).reward);
    expect(rewards.every((r) => Math.abs(r - 1.2) < 1e-9)).toBe(true);
  });
});
