import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QA_SCHEMA_VERSION, type QaItem, type SynthManifest } from './qa-item.js';
import type { SynthResult } from './qa-synth.js';

/** Writes `train.jsonl`, `test.jsonl` and `synth.json` into `dir`; returns the manifest. */
export function writeQaSplits(options: { dir: string; result: SynthResult; index: string; seed: number; requested: number }): SynthManifest {
  mkdirSync(options.dir, { recursive: true });
  const { items, rejected } = options.result;
  const lines = (split: QaItem['split']) => items.filter((i) => i.split === split).map((i) => JSON.stringify(i) + '\n').join('');
  writeFileSync(join(options.dir, 'train.jsonl'), lines('train'));
  writeFileSync(join(options.dir, 'test.jsonl'), lines('test'));
  const byKind: Record<string, number> = {};
  for (const i of items) byKind[i.kind] = (byKind[i.kind] ?? 0) + 1;
  const manifest: SynthManifest = {
    schemaVersion: QA_SCHEMA_VERSION,
    index: options.index,
    seed: options.seed,
    requested: options.requested,
    train: items.filter((i) => i.split === 'train').length,
    test: items.filter((i) => i.split === 'test').length,
    byKind,
    rejected,
    createdAt: new Date().toISOString(),
  };
  writeFileSync(join(options.dir, 'synth.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
