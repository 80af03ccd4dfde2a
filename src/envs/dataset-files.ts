import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { ConfigError, safeParseJson } from '../core/index.js';
import { parseJsonl } from '../core/json-files.js';
import type { DatasetRow } from './dataset.js';

const Row = z.record(z.string(), z.unknown());

/** Reads a JSONL file of objects (blank lines skipped); a bad line fails with its line number. */
export async function loadJsonl(options: { path: string }): Promise<DatasetRow[]> {
  const read = parseJsonl({ text: await readText(options.path), schema: Row, label: options.path });
  const bad = read.bad[0];
  if (bad) throw new ConfigError(`${options.path}:${bad.line}: not a JSON object (${bad.error})`);
  return read.items;
}

/** Reads a JSON file holding an array of objects. */
export async function loadJson(options: { path: string }): Promise<DatasetRow[]> {
  const parsed = safeParseJson(await readText(options.path), z.array(Row));
  if (!parsed.success) throw new ConfigError(`${options.path}: expected a JSON array of objects (${parsed.error})`);
  return parsed.data;
}

/**
 * Reads a Parquet file into row objects (with hyparquet). `columns` limits the columns read;
 * BigInt values become numbers when they fit, strings otherwise.
 */
export async function loadParquet(options: { path: string; columns?: readonly string[] }): Promise<DatasetRow[]> {
  let file;
  try {
    file = await asyncBufferFromFile(options.path);
  } catch (error) {
    throw new ConfigError(`cannot read dataset file ${options.path}: ${(error as Error).message}`, { cause: error });
  }
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file, ...(options.columns ? { columns: [...options.columns] } : {}) });
  } catch (error) {
    throw new ConfigError(`${options.path} is not a readable Parquet file: ${(error as Error).message}`, { cause: error });
  }
  return rows.map((r) => plain(r) as DatasetRow);
}

/** Loads rows from a `.jsonl`, `.json` or `.parquet` file, chosen by extension. */
export async function loadDatasetFile(options: { path: string }): Promise<DatasetRow[]> {
  const p = options.path.toLowerCase();
  if (p.endsWith('.jsonl') || p.endsWith('.ndjson')) return loadJsonl(options);
  if (p.endsWith('.json')) return loadJson(options);
  if (p.endsWith('.parquet')) return loadParquet(options);
  throw new ConfigError(`cannot tell the format of dataset file ${options.path}; use .jsonl, .json or .parquet`);
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read dataset file ${path}: ${(error as Error).message}`, { cause: error });
  }
}

function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}
