import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { TRAIN_CONFIG_KEYS, configChanges, deriveFigures, effectiveSftSteps, formatConfig, loadTrainConfig, parseOverrides, parseTrainConfig } from './config.js';

describe('train config', () => {
  it('has a default for every field but the optional ones (no -1/0 magic values; unset microBatchSize/drGrpoTokens: the engine\'s default, maxTokens)', () => {
    const config = parseTrainConfig({});
    const optional = ['preset', 'sftSteps', 'logRollouts', 'evalEvery', 'drGrpoTokens', 'microBatchSize', 'track'];
    expect(Object.keys(config).sort()).toEqual(TRAIN_CONFIG_KEYS.filter((k) => !optional.includes(k)).sort());
  });

  it('rejects unknown keys with a did-you-mean', () => {
    expect(() => parseTrainConfig({ groupsize: 4 })).toThrow(ConfigError);
    expect(() => parseTrainConfig({ groupsize: 4 })).toThrow(/unknown setting 'groupsize' in the training config for keiko train; did you mean 'groupSize' in the training config\?/);
  });

  it('rejects bad values with the field name', () => {
    expect(() => parseTrainConfig({ groupSize: 1 })).toThrow(/groupSize/);
    expect(() => parseTrainConfig({ loss: 'ppo' })).toThrow(/loss/);
    expect(() => parseTrainConfig({ lr: 'fast' })).toThrow(/lr/);
    expect(() => parseTrainConfig({ loss: 'dapo', epsLow: 0.3, epsHigh: 0.2 })).toThrow(/epsHigh/);
    // an engine on several ranks trains only: refused at config time, with the way out
    expect(() => parseTrainConfig({ ranks: 2 })).toThrow(/ranks = 2: .*does not sample.*run with ranks = 1/);
    expect(parseTrainConfig({ ranks: 1 }).ranks).toBe(1);
  });

  it("defaults to keiko's engine as the sampler; vllm settings come from flags, files and checks", () => {
    const plain = parseTrainConfig({});
    expect(plain.sampler).toBe('engine');
    expect(plain.vllm).toMatchObject({ urls: [], servers: 1, syncEvery: 1, dtype: 'auto' });
    // (the default job's preset creates 128 / 8 = 16-wide heads, so the heads are set too)
    const flags = loadTrainConfig({ overrides: ['--sampler', 'vllm', '--vllm.servers=2', '--vllm.urls', 'http://a:8000,http://b:8000', '--createHidden=128', '--createHeads=4', '--vllm.syncEvery=2'] });
    expect(flags.sampler).toBe('vllm');
    expect(flags.vllm).toMatchObject({ servers: 2, urls: ['http://a:8000', 'http://b:8000'], syncEvery: 2 });
    // vLLM's CPU attention needs head size >= 32: the default tiny model (64 / 4 = 16) is refused with the fix
    expect(() => parseTrainConfig({ sampler: 'vllm' })).toThrow(/head size would be 16.*--createHidden 128 --createHeads 4/);
    expect(() => parseTrainConfig({ sampler: 'vllm', model: 'some/dir', engineUrl: 'http://x:1' })).toThrow(/leave engineUrl empty/);
    expect(() => parseTrainConfig({ sampler: 'sglang' })).toThrow(/sampler/);
    expect(() => parseTrainConfig({ vllm: { server: 2 } })).toThrow(/server/);
  });

  it('parses loose --key=value flags as JSON when possible', () => {
    expect(parseOverrides(['--groupSize=4', '--loss=dapo', '--async', '--envArgs.digits=2', '--runName=007'])).toEqual({
      groupSize: 4,
      loss: 'dapo',
      async: true,
      envArgs: { digits: 2 },
      runName: '007',
    });
    expect(() => parseOverrides(['groupSize'])).toThrow(/--key=value/);
  });

  it('reads train flags by the schema: --key value, kebab-case, string fields kept as text', () => {
    const config = loadTrainConfig({ overrides: ['--steps', '5', '--sft-steps=7', '--runName=007', '--out-dir', '123', '--no-coalesce'] });
    expect(config).toMatchObject({ steps: 5, sftSteps: 7, runName: '007', outDir: '123', coalesce: false });
    expect(() => loadTrainConfig({ overrides: ['run.toml', '--steps', '5', 'extra'] })).toThrow(/unexpected argument 'extra'/);
  });

  it('reads configs saved under old names and with the old -1 sentinels', () => {
    const saved = { ...JSON.parse(JSON.stringify(parseTrainConfig({}))), sftSteps: -1, logRollouts: -1, evalEvery: 0, evalSamples: 3 } as Record<string, unknown>;
    delete saved['evalGroupSize'];
    const config = loadTrainConfig({ base: saved });
    expect(config.sftSteps).toBeUndefined();
    expect(config.logRollouts).toBeUndefined();
    expect(config.evalEvery).toBeUndefined();
    expect(() => parseTrainConfig({ evalEvery: 0 })).toThrow(/evalEvery/); // 0 is no longer a magic "off": leave it unset
    expect(config.evalGroupSize).toBe(3);
    expect(configChanges(loadTrainConfig({ base: saved }), loadTrainConfig({ base: saved, overrides: ['--steps', '7'] })).map((c) => c.key)).toEqual(['steps']);
  });

  it('turns checkpoints, pruning and gradient clipping off with off (null), not 0', () => {
    const off = loadTrainConfig({ overrides: ['--maxGradNorm=off', '--checkpointEvery', 'off', '--keep-checkpoints=null'] });
    expect(off).toMatchObject({ maxGradNorm: null, checkpointEvery: null, keepCheckpoints: null });
    expect(() => parseTrainConfig({ maxGradNorm: 0 })).toThrow(/maxGradNorm/);
    expect(() => loadTrainConfig({ overrides: ['--lr=off'] })).toThrow(/--lr expects a number/); // only nullable settings take off
    // what a 0 meant before is still read for one release
    expect(loadTrainConfig({ overrides: ['--checkpointEvery=0', '--keepCheckpoints=0', '--maxGradNorm=0'] })).toMatchObject({ maxGradNorm: null, checkpointEvery: null, keepCheckpoints: null });
  });

  it('layers TOML file and overrides, later wins, objects merged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-config-'));
    const file = join(dir, 'train.toml');
    writeFileSync(file, 'env = "arithmetic"\ngroupSize = 4\nsteps = 3\n[envArgs]\nmaxNumber = 9\n');
    const config = loadTrainConfig({ file, overrides: ['--steps=5', '--envArgs.ops="+"'] });
    expect(config.groupSize).toBe(4);
    expect(config.steps).toBe(5);
    expect(config.envArgs).toEqual({ maxNumber: 9, ops: '+' });
  });

  it('resolves an unset sftSteps to a warm start only for a created model', () => {
    expect(effectiveSftSteps(parseTrainConfig({}))).toBe(400);
    expect(effectiveSftSteps(parseTrainConfig({ model: 'some/dir' }))).toBe(0);
    expect(effectiveSftSteps(parseTrainConfig({ model: 'some/dir', sftSteps: 50 }))).toBe(50);
  });

  it('runs the beyond-imitation preset when no env, model or engine is named; presets lie under every setting', () => {
    const main = loadTrainConfig({});
    expect(main).toMatchObject({ preset: 'beyond-imitation', env: 'column-addition', sftSteps: 400, steps: 40, evalTemperature: 1, evalGroupSize: 4 });
    expect(main.envArgs).toMatchObject({ digits: 3, evalSplit: 'test', slip: 'units-carry', carelessRate: 0.9 });
    // flags override the preset, objects key by key
    expect(loadTrainConfig({ overrides: ['--steps=7', '--envArgs.evalSplit=validation'] })).toMatchObject({ steps: 7, sftSteps: 400, envArgs: { digits: 3, evalSplit: 'validation' } });
    // naming an env, a model or an engine means no preset: the schema's defaults
    expect(loadTrainConfig({ overrides: ['--model=some/dir'] })).toMatchObject({ env: 'arithmetic', steps: 120 });
    expect(loadTrainConfig({ overrides: ['--model=some/dir'] }).preset).toBeUndefined();
    expect(() => loadTrainConfig({ overrides: ['--preset=slow'] })).toThrow(/preset must be one of beyond-imitation, quick/);
  });

  it('uses the main-job envArgs only while env is the default (the quick preset)', () => {
    expect(loadTrainConfig({ overrides: ['--preset=quick'] })).toMatchObject({ env: 'arithmetic', steps: 120, envArgs: { digits: 1, demoErrorRate: 0.3 } });
    expect(loadTrainConfig({ overrides: ['--env=wordle'] }).envArgs).toEqual({});
    expect(loadTrainConfig({ overrides: ['--env=wordle', '--envArgs.n=3'] }).envArgs).toEqual({ n: 3 });
  });

  it('reads JSON files and reports unreadable ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-config-'));
    const file = join(dir, 'train.json');
    writeFileSync(file, '{"lr": 0.01, "bogus": 1}');
    expect(() => loadTrainConfig({ file })).toThrow(/unknown setting 'bogus' in .*train\.json/);
    expect(() => loadTrainConfig({ file: join(dir, 'missing.toml') })).toThrow(/cannot read config file/);
    writeFileSync(join(dir, 'bad.yaml'), 'a: 1');
    expect(() => loadTrainConfig({ file: join(dir, 'bad.yaml') })).toThrow(/\.toml or \.json/);
  });

  it('derives figures and prints them', () => {
    const config = parseTrainConfig({ promptsPerStep: 4, groupSize: 8, maxTokens: 10, maxTurns: 1, steps: 3 });
    expect(deriveFigures(config)).toEqual({ rolloutsPerStep: 32, maxCompletionTokensPerStep: 320, totalRollouts: 96 });
    expect(formatConfig(config)).toMatch(/rollouts per step: 32/);
  });

  it('prints only the settings that differ from the defaults unless asked for all', () => {
    const config = parseTrainConfig({ steps: 3, lr: 0.01 });
    const short = formatConfig(config).split('\n');
    expect(short.filter((l) => l.includes(' = '))).toEqual(['  steps = 3', '  lr    = 0.01']);
    expect(short).toContain(`  the other ${TRAIN_CONFIG_KEYS.length - 2} settings at their defaults (--verbose lists them all)`);
    const all = formatConfig(config, { all: true });
    for (const key of TRAIN_CONFIG_KEYS) expect(all).toMatch(new RegExp(`^  ${key} +=`, 'm'));
  });

  it('configChanges lists the differing settings, keys sorted, ignoring the keys it is told to', () => {
    const saved = parseTrainConfig({});
    const now = JSON.parse(JSON.stringify(parseTrainConfig({ lr: 2e-4, steps: 5, envArgs: { digits: 2 } }))) as Record<string, unknown>;
    const changes = configChanges(JSON.parse(JSON.stringify(saved)) as Record<string, unknown>, now);
    expect(changes.map((c) => c.key)).toEqual(['envArgs', 'lr', 'steps']);
    expect(changes.find((c) => c.key === 'lr')).toEqual({ key: 'lr', before: saved.lr, after: 2e-4 });
    expect(configChanges({ a: 1, model: 'x' }, { a: 1, model: 'y', b: [1] }, ['model'])).toEqual([{ key: 'b', before: undefined, after: [1] }]);
    expect(configChanges(now, now)).toEqual([]);
  });
});
