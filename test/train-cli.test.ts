// `keiko train`'s settings through the real CLI: the same flag forms as every other command, a
// did-you-mean for typos, --help listing every key and --print-config. Nothing here starts an engine.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRAIN_CONFIG_KEYS } from '../src/train/config.js';
import { keikoCli as keiko } from './helpers/keiko-cli.js';

const printed = (out: string) => JSON.parse(out.slice(out.indexOf('{'))) as Record<string, unknown>;

describe('keiko train settings', () => {
  it('reads --key value and --key=value, camelCase and kebab-case, and prints the resolved config', async () => {
    const run = await keiko(['train', '--steps', '5', '--sft-steps=7', '--group-size', '4', '--envArgs.digits=2', '--no-coalesce', '--print-config']);
    expect(run.code, run.out).toBe(0);
    expect(printed(run.out)).toMatchObject({ steps: 5, sftSteps: 7, groupSize: 4, envArgs: { digits: 2 }, coalesce: false });
  });

  it('reads a config file given as the argument or with --config, flags overriding it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keiko-train-cli-'));
    const file = join(dir, 'run.toml');
    await writeFile(file, 'steps = 3\nlr = 0.01\n');
    for (const args of [[file], ['--config', file]]) {
      const run = await keiko(['train', ...args, '--steps', '9', '--print-config']);
      expect(run.code, run.out).toBe(0);
      expect(printed(run.out)).toMatchObject({ steps: 9, lr: 0.01 });
    }
  });

  it('rejects a typo with one short did-you-mean, exit 2', async () => {
    const run = await keiko(['train', '--stesp=5']);
    expect(run.code).toBe(2);
    expect(run.out).toMatch(/unknown setting '--stesp' for keiko train; did you mean '--steps'\?/);
    expect(run.out).not.toMatch(/promptsPerStep/); // not the list of every key
  });

  it('--help lists every key with its default and doc', async () => {
    const run = await keiko(['train', '--help']);
    expect(run.code).toBe(0);
    for (const key of TRAIN_CONFIG_KEYS) expect(run.out).toContain(`--${key}`);
    expect(run.out).toMatch(/--steps <n> +RL steps \(optimizer steps\)\. \(default: 120\)/);
    expect(run.out).toContain('--print-config');
  });

  it('reads the old name evalSamples as evalGroupSize, with a notice', async () => {
    const run = await keiko(['train', '--evalSamples=3', '--print-config']);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/'evalSamples' is deprecated; use 'evalGroupSize'/);
    expect(printed(run.out)).toMatchObject({ evalGroupSize: 3 });
  });
});

describe('keiko train start-up', () => {
  it('prints only the settings that differ from the defaults, and all of them with --verbose', async () => {
    // A model folder that does not exist stops the job right after the start-up lines: no engine starts.
    const args = ['train', '--steps', '3', '--model', join(tmpdir(), 'keiko-no-such-model'), '--out-dir', await mkdtemp(join(tmpdir(), 'keiko-train-start-'))];
    const short = await keiko(args);
    expect(short.code).toBe(2);
    expect(short.out).toMatch(/^ {2}steps += 3$/m);
    expect(short.out).toMatch(/settings at their defaults \(--verbose lists them all\)/);
    expect(short.out).not.toMatch(/^ {2}lr +=/m);
    const verbose = await keiko([...args, '--verbose']);
    expect(verbose.code).toBe(2);
    for (const key of TRAIN_CONFIG_KEYS) expect(verbose.out).toMatch(new RegExp(`^  ${key} +=`, 'm'));
  });
});
