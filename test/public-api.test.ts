// What `import … from 'keiko'` offers: named exports for users, no internals; the search emulator,
// the proxy and the test doubles on their own subpaths (package.json `exports`).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as keiko from 'keiko';
import * as proxy from 'keiko/proxy';
import * as search from 'keiko/search';
import * as testing from 'keiko/testing';

const ROOT = resolve(import.meta.dirname, '..');

describe('public API', () => {
  it('exports what a user writes environments, rubrics, evals and training runs with', () => {
    for (const name of ['singleTurnEnv', 'multiTurnEnv', 'toolEnv', 'defineTool', 'envGroup', 'rubric', 'judgeRubric', 'XMLParser', 'OpenAISampler', 'EngineClient', 'runRollouts', 'summarizeRollouts', 'trainGrpo', 'runTrainJob', 'evaluatePolicy', 'parseTrainConfig', 'RolloutResult', 'ConfigError', 'Rng', 'RunStore', 'Sandbox', 'codeEnv', 'loadHumanEval', 'guardedRubric', 'verifierDisagreement', 'MetricAlarms']) {
      expect(keiko, name).toHaveProperty(name);
    }
  });

  it('keeps internals off the root', () => {
    for (const name of ['hash32', 'Semaphore', 'freePort', 'defaultEnginePython', 'toWire', 'safeParseJson', 'writeFileAtomic', 'JsonlAppender', 'DataOrder', 'parseOverrides', 'CoalescingSampler', 'scheduleRollouts', 'RUN_FILES', 'withRetries']) {
      expect(keiko, name).not.toHaveProperty(name);
    }
  });

  it('has one LossSpec and one engine client name', () => {
    expect(Object.keys(keiko).filter((k) => /LossSpec|TrainingClient/.test(k))).toEqual([]); // LossSpec is a type only
    expect(Object.keys(keiko).filter((k) => k.startsWith('Engine')).sort()).toEqual(['EngineClient', 'EngineError', 'EngineSampler']);
  });

  it('serves the search emulator, the proxy and the test doubles on subpaths', () => {
    expect(search).toHaveProperty('LocalSearchIndex');
    expect(search).toHaveProperty('searchEnv');
    expect(proxy).toHaveProperty('agentEnv');
    expect(testing).toHaveProperty('ScriptedSampler');
    expect(keiko).not.toHaveProperty('agentEnv');
    expect(keiko).not.toHaveProperty('LocalSearchIndex');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; peerDependencies?: Record<string, string>; dependencies: Record<string, string> };
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './proxy', './search', './testing']);
    expect(pkg.peerDependencies?.zod).toMatch(/^\^4/);
    expect(pkg.dependencies).not.toHaveProperty('zod');
    expect(pkg.dependencies).not.toHaveProperty('@huggingface/jinja'); // nothing imports it
  });
});
