import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { TRAIN_CONFIG_KEYS, configChanges, deriveFigures, effectiveSftSteps, formatConfig, loadTrainConfig, parseOverrides, parseTrainConfig } from './config.js';

describe('train config', () => {
  it('has a default for every field but those whose default is the engine\'s', () => {
    const config = parseTrainConfig({});
    const engineDefaults = ['drGrpoTokens', 'microBatchSize'];
    expect(Object.keys(config).sort()).toEqual([...TRAIN_CONFIG_KEYS].filter((k) => !engineDefaults.includes(k)).sort());
  });

  it('rejects unknown keys and names the valid ones', () => {
    expect(() => parseTrainConfig({ groupsize: 4 })).toThrow(ConfigError);
    expect(() => parseTrainConfig({ groupsize: 4 })).toThrow(/unknown config key 'groupsize'; valid keys: .*groupSize/);
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

  it('parses --key=value overrides as JSON when possible', () => {
    expect(parseOverrides(['--groupSize=4', '--loss=dapo', '--async', '--envArgs.digits=2', '--runName=007', '--outDir=123'])).toEqual({
      groupSize: 4,
      loss: 'dapo',
      async: true,
      envArgs: { digits: 2 },
      runName: '007',
      outDir: '123',
    });
    expect(() => parseOverrides(['groupSize'])).toThrow(/--key=value/);
  });

  it('layers TOML file and overrides, later wins, objects merged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-config-'));
    const file = join(dir, 'train.toml');
    writeFileSync(file, 'groupSize = 4\nsteps = 3\n[envArgs]\nmaxNumber = 9\n');
    const config = loadTrainConfig({ file, overrides: ['--steps=5', '--envArgs.ops="+"'] });
    expect(config.groupSize).toBe(4);
    expect(config.steps).toBe(5);
    expect(config.envArgs).toEqual({ maxNumber: 9, ops: '+' });
  });

  it('resolves sftSteps=-1 to a warm start only for a created model', () => {
    expect(effectiveSftSteps(parseTrainConfig({}))).toBe(400);
    expect(effectiveSftSteps(parseTrainConfig({ model: 'some/dir' }))).toBe(0);
    expect(effectiveSftSteps(parseTrainConfig({ model: 'some/dir', sftSteps: 50 }))).toBe(50);
  });

  it('uses the main-job envArgs only while env is the default', () => {
    expect(loadTrainConfig({}).envArgs).toEqual({ digits: 1, demoErrorRate: 0.3 });
    expect(loadTrainConfig({ overrides: ['--env=wordle'] }).envArgs).toEqual({});
    expect(loadTrainConfig({ overrides: ['--env=wordle', '--envArgs.n=3'] }).envArgs).toEqual({ n: 3 });
  });

  it('reads JSON files and reports unreadable ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-config-'));
    const file = join(dir, 'train.json');
    writeFileSync(file, '{"lr": 0.01, "bogus": 1}');
    expect(() => loadTrainConfig({ file })).toThrow(/unknown config key 'bogus'/);
    expect(() => loadTrainConfig({ file: join(dir, 'missing.toml') })).toThrow(/cannot read config file/);
    writeFileSync(join(dir, 'bad.yaml'), 'a: 1');
    expect(() => loadTrainConfig({ file: join(dir, 'bad.yaml') })).toThrow(/\.toml or \.json/);
  });

  it('derives figures and prints them', () => {
    const config = parseTrainConfig({ promptsPerStep: 4, groupSize: 8, maxTokens: 10, maxTurns: 1, steps: 3 });
    expect(deriveFigures(config)).toEqual({ rolloutsPerStep: 32, maxCompletionTokensPerStep: 320, totalRollouts: 96 });
    expect(formatConfig(config)).toMatch(/rollouts per step: 32/);
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
