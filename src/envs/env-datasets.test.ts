import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/index.js';
import { buildEnvDatasets } from './env-datasets.js';

describe('buildEnvDatasets', () => {
  it('builds both splits with the same system prompt and column map', () => {
    const { dataset, evalDataset } = buildEnvDatasets({
      label: "environment 'x'",
      dataset: [{ q: '1+1', answer: 2 }],
      evalDataset: [{ q: '2+2', answer: 4 }],
      columns: { question: 'q' },
      systemPrompt: 'Be brief.',
    });
    expect(dataset[0]!.prompt).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: '1+1' }]);
    expect(evalDataset![0]!.prompt.at(-1)).toEqual({ role: 'user', content: '2+2' });
    expect(evalDataset![0]!.answer).toBe(4);
  });

  it('fails at construction when there are no examples at all, naming the environment', () => {
    expect(() => buildEnvDatasets({ label: "agentEnv 'a'", dataset: [] })).toThrow(ConfigError);
    expect(() => buildEnvDatasets({ label: "agentEnv 'a'", dataset: [] })).toThrow(/agentEnv 'a' has no examples/);
    expect(buildEnvDatasets({ label: 'e', dataset: [], evalDataset: [{ question: 'q' }] }).dataset).toEqual([]);
  });
});
