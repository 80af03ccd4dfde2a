// `keiko sft` through the real CLI and the real Python engine: a JSONL of conversations (one with a
// tool call and a tool result) trains a tiny created model, whose loss falls and whose checkpoint is
// a Hugging Face folder. Skipped only when engine/.venv is missing (scripts/setup.sh has not run).
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasEngine, keikoCli as keiko } from './helpers/keiko-cli.js';

const conversations = [
  { messages: [{ role: 'user', content: 'What is 2 + 3?' }, { role: 'assistant', content: 'The answer is 5.' }] },
  { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello.' }, { role: 'assistant', content: 'Hello!' }] },
  {
    messages: [
      { role: 'user', content: 'What is 7 * 6? Use the calculator.' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'calc', arguments: '{"expr":"7*6"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: '42' },
      { role: 'assistant', content: 'It is 42.' },
    ],
    tools: [{ type: 'function', function: { name: 'calc', description: 'evaluates arithmetic', parameters: { type: 'object', properties: { expr: { type: 'string' } }, required: ['expr'] } } }],
  },
];

describe('keiko sft', () => {
  it('takes its settings like every command: --key value or --key=value, a did-you-mean, --help, --print-config', async () => {
    const printed = await keiko(['sft', '--model', 'm', '--env', 'arithmetic', '--env-args', '{"digits":2}', '--steps=5', '--batch', '4', '--print-config']);
    expect(printed.code, printed.out).toBe(0);
    expect(JSON.parse(printed.out)).toEqual({ model: 'm', env: 'arithmetic', envArgs: { digits: 2 }, steps: 5, batch: 4, lr: 3e-3, seed: 0, threads: 1 });
    const typo = await keiko(['sft', '--model', 'm', '--bacth', '4']);
    expect(typo.code).toBe(2);
    expect(typo.out).toMatch(/unknown setting '--bacth' for keiko sft; did you mean '--batch'\?/);
    const help = await keiko(['sft', '--help']);
    expect(help.out).toMatch(/--steps <n> +Optimizer steps\. \(default: 200\)/);
  });

  it('rejects data without a conversation, naming the line, with exit 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keiko-sft-cli-'));
    await writeFile(join(dir, 'config.json'), '{}');
    const data = join(dir, 'bad.jsonl');
    await writeFile(data, `${JSON.stringify(conversations[0])}\n{"text": "no messages"}\n`);
    const run = await keiko(['sft', '--model', dir, '--data', data]);
    expect(run.code).toBe(2);
    expect(run.out).toMatch(/bad\.jsonl:2: not a conversation/);
  });

  it.skipIf(!hasEngine)('trains a created model on a JSONL of conversations: loss falls, checkpoint is a HF folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keiko-sft-cli-'));
    const corpus = join(dir, 'corpus.txt');
    await writeFile(corpus, `${conversations.flatMap((c) => c.messages.map((m) => m.content ?? '')).join('\n')}\n`.repeat(30));
    const model = join(dir, 'tiny');
    const created = await keiko(['engine', 'create', '--out', model, '--corpus', corpus, '--hidden', '32', '--layers', '1']);
    expect(created.code, created.out).toBe(0);
    const data = join(dir, 'data.jsonl');
    await writeFile(data, `${conversations.map((c) => JSON.stringify(c)).join('\n')}\n`);
    const out = join(dir, 'run');
    const run = await keiko(['sft', '--model', model, '--data', data, '--steps', '30', '--batch', '3', '--lr', '1e-2', '--out', out]);
    expect(run.code, run.out).toBe(0);
    const losses = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { loss: number }).loss);
    expect(losses).toHaveLength(30);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.5);
    const checkpoint = /checkpoint \(HF format\): (\S+)/.exec(run.out)?.[1];
    expect(checkpoint).toBeDefined();
    expect(existsSync(join(checkpoint!, 'config.json'))).toBe(true);
    const card = readFileSync(join(checkpoint!, 'README.md'), 'utf8');
    expect(card).toMatch(/^---\nlibrary_name: transformers[\s\S]*# keiko checkpoint: supervised fine-tuning \(SFT\)/);
    expect(card).toMatch(/conversations from a JSONL file[\s\S]*\| `batch` \|/);
    expect(existsSync(join(checkpoint!, 'model.safetensors'))).toBe(true);
  }, 300_000); // two Python start-ups (torch import) on a busy 2-core machine
});
