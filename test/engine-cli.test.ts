// `keiko engine create|info` through the real CLI and the real Python engine (skipped only when
// engine/.venv is missing, i.e. scripts/setup.sh has not run).
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasEngine, keikoCli as keiko } from './helpers/keiko-cli.js';

describe('keiko engine', () => {
  it('rejects bad usage with exit code 2 and a clear message', async () => {
    const none = await keiko(['engine', 'info']);
    expect(none.code).toBe(2);
    expect(none.out).toContain('exactly one of --model <dir> or --url <url>');
    const missing = await keiko(['engine', 'create', '--out', join(tmpdir(), 'never'), '--corpus', '/nonexistent/corpus.txt']);
    expect(missing.code).toBe(2);
    expect(missing.out).toContain('corpus file not found');
  });

  it.skipIf(!hasEngine)('creates a tiny model and reports its architecture', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keiko-engine-cli-'));
    const corpus = join(dir, 'corpus.txt');
    await writeFile(corpus, 'the quick brown fox jumps over the lazy dog\nhello world\n'.repeat(40));
    const out = join(dir, 'tiny');
    const created = await keiko(['engine', 'create', '--out', out, '--corpus', corpus, '--hidden', '32', '--layers', '1', '--architecture', 'llama']);
    expect(created.code, created.out).toBe(0);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
    expect(existsSync(join(out, 'tokenizer_config.json'))).toBe(true);
    const info = await keiko(['engine', 'info', '--model', out]);
    expect(info.code, info.out).toBe(0);
    expect(info.out).toContain('"architecture": "LlamaForCausalLM"');
    expect(info.out).toContain('"hidden_size": 32');
  }, 240_000); // two Python start-ups (torch import) on a busy 2-core machine
});
