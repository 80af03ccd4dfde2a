// The search and engine subcommands take their settings through the same resolver as eval, sft and
// train: --key value or --key=value, kebab-case, a did-you-mean, --help listing every setting with
// its default, --print-config. Nothing here builds an index or starts an engine.
import { describe, expect, it } from 'vitest';
import { keikoCli as keiko } from './helpers/keiko-cli.js';

describe('one settings mechanism for the search and engine subcommands', () => {
  it('search synth: both flag forms, kebab-case, short flags, --print-config', async () => {
    const run = await keiko(['search', 'synth', '-n', '5', '--test-fraction=0.5', '--seed', '3', '--print-config']);
    expect(run.code, run.out).toBe(0);
    expect(JSON.parse(run.out)).toEqual({ index: '.keiko/search/builtin', out: '.keiko/search/qa', count: 5, seed: 3, testFraction: 0.5, answerField: 'title' });
  });

  it('search serve and engine serve: a typo gets a did-you-mean and exit 2', async () => {
    const search = await keiko(['search', 'serve', '--prot', '1']);
    expect(search.code).toBe(2);
    expect(search.out).toMatch(/unknown setting '--prot' for keiko search serve; did you mean '--port'\?/);
    const engine = await keiko(['engine', 'serve', '--model', 'm', '--lora-rnak=4']);
    expect(engine.code).toBe(2);
    expect(engine.out).toMatch(/did you mean '--loraRank'\?/);
  });

  it('--help lists every setting with its default', async () => {
    const build = await keiko(['search', 'build', '--help']);
    expect(build.out).toMatch(/--passageWords <n> +Words per retrieval passage/);
    expect(build.out).toContain('--print-config');
    const serve = await keiko(['engine', 'serve', '--help']);
    for (const key of ['--dtype', '--loraAlpha', '--microBatchSize', '--ranks']) expect(serve.out).toContain(key);
    const resolved = await keiko(['engine', 'serve', '--model', 'm', '--dtype', 'bfloat16', '--lora-rank=4', '--lora-alpha', '8', '--micro-batch-size=2', '--print-config']);
    expect(resolved.code, resolved.out).toBe(0);
    expect(JSON.parse(resolved.out)).toMatchObject({ dtype: 'bfloat16', loraRank: 4, loraAlpha: 8, microBatchSize: 2 });
    const create = await keiko(['engine', 'create', '--help']);
    expect(create.out).toMatch(/--architecture <qwen2\|llama> +Model architecture\. \(default: "qwen2"\)/);
  });
});
