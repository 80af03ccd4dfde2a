import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { closestName } from './did-you-mean.js';
import { formatSettingsHelp } from './help.js';
import { checkSettings, parseSettingsArgv, resolveSettings, type SettingsSpec } from './settings.js';

const spec: SettingsSpec = {
  command: 'keiko demo',
  schema: z
    .object({
      steps: z.number().int().positive().default(120).describe('RL steps.'),
      sftSteps: z.number().int().nonnegative().optional().describe('SFT steps; unset: automatic.'),
      groupSize: z.number().int().min(2).default(8).describe('Rollouts per example.'),
      loss: z.enum(['grpo', 'dapo']).default('grpo').describe('Policy loss.'),
      coalesce: z.boolean().default(true).describe('Merge requests.'),
      runName: z.string().default('').describe('Run folder name.'),
      envArgs: z.record(z.string(), z.unknown()).default({}).describe('Environment arguments.'),
      baseUrls: z.array(z.url()).optional().describe('Servers.'),
      sampling: z.object({ topP: z.number().optional().describe('Nucleus p.'), maxTokens: z.number().int().optional() }).strict().default({}),
    })
    .strict(),
  short: { r: 'groupSize', b: 'baseUrls' },
  aliases: { samples: { to: 'groupSize', deprecated: true }, maxTokens: { to: 'sampling.maxTokens' } },
  positional: '[config.toml]',
  positionalConfigFile: true,
};

describe('settings from argv', () => {
  it('reads --key value, --key=value, kebab-case, nested keys, booleans and short flags alike', () => {
    const p = parseSettingsArgv(spec, ['--steps', '5', '--sft-steps=7', '--sampling.topP=0.9', '--no-coalesce', '-r', '4', '--envArgs.digits=2', '--run-name', '007', '-b', 'http://a/v1,http://b/v1']);
    expect(p.values).toEqual({ steps: 5, sftSteps: 7, sampling: { topP: 0.9 }, coalesce: false, groupSize: 4, envArgs: { digits: 2 }, runName: '007', baseUrls: ['http://a/v1', 'http://b/v1'] });
    expect(p.positionals).toEqual([]);
    expect(parseSettingsArgv(spec, ['--coalesce', 'false', 'run.toml']).values).toEqual({ coalesce: false });
    expect(parseSettingsArgv(spec, ['--coalesce', 'run.toml']).positionals).toEqual(['run.toml']);
  });

  it('rejects unknown keys with a did-you-mean, and bad values naming the flag', () => {
    expect(() => parseSettingsArgv(spec, ['--stpes=3'])).toThrow(/unknown setting '--stpes' for keiko demo; did you mean '--steps'\?/);
    expect(() => parseSettingsArgv(spec, ['--sampling.max_tokens=3'])).toThrow(/did you mean '--sampling.maxTokens'/);
    expect(() => parseSettingsArgv(spec, ['--steps=many'])).toThrow(/--steps expects a number, got 'many'/);
    expect(() => parseSettingsArgv(spec, ['--steps'])).toThrow(/--steps needs a value/);
    expect(() => parseSettingsArgv(spec, ['-z', '1'])).toThrow(ConfigError);
    expect(() => parseSettingsArgv({ ...spec, positional: undefined }, ['5'])).toThrow(/unexpected argument '5'/);
  });

  it('maps aliases, with a notice for deprecated names only', () => {
    const p = parseSettingsArgv(spec, ['--samples=3', '--max-tokens', '9']);
    expect(p.values).toEqual({ groupSize: 3, sampling: { maxTokens: 9 } });
    expect(p.notices).toEqual(["keiko demo: 'samples' is deprecated; use 'groupSize' (the old name goes in the next release)"]);
    expect(p.given).toEqual(new Set(['groupSize', 'sampling.maxTokens']));
  });

  it('picks out --config, --print-config and --help', () => {
    const p = parseSettingsArgv(spec, ['--config', 'x.toml', '--print-config', '-h']);
    expect(p).toMatchObject({ configFile: 'x.toml', printConfig: true, help: true });
  });
});

describe('settings from files', () => {
  it('rejects unknown nested keys in a file with a did-you-mean', () => {
    expect(() => checkSettings(spec, { sampling: { max_tokens: 3 } }, 'eval.toml')).toThrow(/unknown setting 'sampling.max_tokens' in eval.toml for keiko demo; did you mean 'sampling.maxTokens' in eval.toml\?/);
    expect(checkSettings(spec, { samples: 4, envArgs: { any: 1 } }, 'f').values).toEqual({ groupSize: 4, envArgs: { any: 1 } });
  });

  it('layers defaults < file < flags and validates with the schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-settings-'));
    const file = join(dir, 'run.toml');
    writeFileSync(file, 'steps = 3\ngroupSize = 4\n[envArgs]\na = 1\n[sampling]\ntopP = 0.5\n');
    const { config } = resolveSettings(spec, [file, '--steps=5', '--envArgs.b=2']);
    expect(config).toMatchObject({ steps: 5, groupSize: 4, envArgs: { a: 1, b: 2 }, sampling: { topP: 0.5 }, loss: 'grpo' });
    expect(resolveSettings(spec, ['--config', file]).config.steps).toBe(3);
    expect(() => resolveSettings(spec, ['--groupSize=1'])).toThrow(/invalid keiko demo settings: groupSize/);
  });
});

describe('settings help', () => {
  it('lists every key with its default and doc', () => {
    const help = formatSettingsHelp(spec);
    for (const key of ['steps', 'sftSteps', 'groupSize', 'loss', 'coalesce', 'runName', 'envArgs', 'baseUrls', 'sampling.topP', 'sampling.maxTokens']) expect(help).toContain(`--${key}`);
    expect(help).toMatch(/--steps <n> +RL steps\. \(default: 120\)/);
    expect(help).toMatch(/-r, --groupSize <n>/);
    expect(help).toMatch(/samples → groupSize/);
    expect(help).toContain('--print-config');
  });

  it('suggests the closest name', () => {
    expect(closestName('max_tokens', ['maxTokens', 'maxTurns'])).toBe('maxTokens');
    expect(closestName('zzzzzz', ['steps'])).toBeUndefined();
  });
});
