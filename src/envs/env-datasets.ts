import { ConfigError, type ChatMessage, type Example } from '../core/index.js';
import { buildDataset, type ColumnMap, type DatasetRow, type FewShotExample } from './dataset.js';

/** The dataset options every environment kind takes. */
export interface EnvDatasetOptions {
  /** Training rows (`Example`s or raw rows mapped through `columns`). */
  dataset: readonly DatasetRow[];
  /** Evaluation rows; when absent, evaluation uses `dataset`. */
  evalDataset?: readonly DatasetRow[];
  columns?: ColumnMap;
  systemPrompt?: string;
  fewShot?: readonly FewShotExample[] | readonly ChatMessage[];
}

export interface BuildEnvDatasetsOptions extends EnvDatasetOptions {
  /** How the environment is named in error messages, e.g. "environment 'x'" or "agentEnv 'x'". */
  label: string;
}

/**
 * Builds an environment's training and evaluation examples with the same column map, system prompt
 * and few-shot turns, and fails at construction when both are empty.
 */
export function buildEnvDatasets(options: BuildEnvDatasetsOptions): { dataset: Example[]; evalDataset?: Example[] } {
  const { label, columns, systemPrompt, fewShot } = options;
  const shared = { columns, systemPrompt, fewShot };
  const dataset = buildDataset({ rows: options.dataset, ...shared, label: `${label} dataset` });
  const evalDataset =
    options.evalDataset === undefined ? undefined : buildDataset({ rows: options.evalDataset, ...shared, label: `${label} evalDataset` });
  if (dataset.length === 0 && !evalDataset?.length) {
    throw new ConfigError(`${label} has no examples; give it a non-empty dataset or evalDataset`);
  }
  return evalDataset === undefined ? { dataset } : { dataset, evalDataset };
}
