import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/core/index.js';
import { loadTrainConfig } from '../src/train/index.js';
import { parseRunArgs, resumeSameConfig } from './flagship-run.js';

describe('flagship run helpers', () => {
  it('parseRunArgs takes --split and passes the rest through', () => {
    expect(parseRunArgs(['--split=validation', '--lr=1e-4'])).toEqual({ split: 'validation', overrides: ['--lr=1e-4'] });
    expect(parseRunArgs([])).toEqual({ split: 'test', overrides: [] });
    expect(() => parseRunArgs(['--split=train'])).toThrow(ConfigError);
  });

  it('resumeSameConfig: no run → start; same settings (any model path) → resume; other settings → refuse, naming them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-flagship-'));
    const config = loadTrainConfig({ file: 'examples/search-agent/config.toml', overrides: [] });
    expect(resumeSameConfig(dir, config)).toBe(false);
    writeFileSync(join(dir, 'run.json'), '{}');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, model: join(dir, 'model-init') }));
    expect(resumeSameConfig(dir, config)).toBe(true);
    expect(() => resumeSameConfig(dir, { ...config, lr: 1e-3, envArgs: {} })).toThrow(/other settings \(envArgs, lr\)/);
  });
});
