// `keiko eval --engine DIR`: the CLI starts keiko's real Python engine on a tiny model it created and
// evaluates it; the rollouts keep the engine's exact token ids and logprobs.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RolloutResult } from '../src/core/index.js';

const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'bin', 'keiko.js');
const run = promisify(execFile);

// Skipped, like the other engine tests, only when engine/.venv is missing (scripts/setup.sh not run).
const hasEngine = existsSync(join(root, 'engine', '.venv', 'bin', 'python'));

describe.skipIf(!hasEngine)('keiko eval --engine', () => {
  it('evaluates a model served by the engine and records token ids and logprobs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keiko-eval-engine-'));
    const corpus = join(dir, 'corpus.txt');
    await writeFile(corpus, Array.from({ length: 200 }, (_, i) => `${i % 10}+${(i * 7) % 10} <answer>${(i % 10) + ((i * 7) % 10)}</answer>`).join('\n'));
    const model = join(dir, 'tiny');
    await run(process.execPath, [bin, 'engine', 'create', '--out', model, '--corpus', corpus, '--hidden', '32', '--layers', '1'], { cwd: root });

    const out = join(dir, 'runs');
    const { stdout } = await run(
      process.execPath,
      [bin, 'eval', '-e', 'arithmetic', '--env-args', '{"digits":1}', '--engine', model, '-n', '4', '-r', '2', '-t', '6', '--out', out, '--no-progress'],
      { cwd: root },
    );
    expect(stdout).toMatch(/4 examples × 2 = 8 rollouts/);
    const [runId] = await readdir(out);
    const lines = (await readFile(join(out, runId!, 'results.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(8);
    for (const line of lines) {
      const result = RolloutResult.parse(JSON.parse(line));
      expect(result.error).toBeUndefined();
      const tokens = result.turns[0]!.tokens!;
      expect(tokens.promptIds.length).toBeGreaterThan(0);
      expect(tokens.completionIds.length).toBeGreaterThan(0);
      expect(tokens.completionLogprobs).toHaveLength(tokens.completionIds.length);
      expect(tokens.completionLogprobs.every((lp) => lp <= 0)).toBe(true);
    }
  }, 240_000);
});
