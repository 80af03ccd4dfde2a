// The layers of src/, guarded: an import may only point down (to a lower layer), never up and never
// sideways between folders of the same layer; cli/ and dashboard/ reach other folders only through
// their public surface (the folder's index.ts). docs/architecture.md draws the same picture.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..', 'src');

/** Folder → layer. Lower layers know nothing of higher ones. */
const LAYERS: Record<string, number> = {
  core: 0, // types, errors, schemas, rng: no keiko imports
  envs: 1,
  rubrics: 1,
  samplers: 1,
  runs: 1, // the run-folder format
  sandbox: 1, // bubblewrap sandbox for model-written programs
  tracking: 1, // W&B / MLflow / TensorBoard through their Python clients
  rollout: 2,
  engine: 2,
  proxy: 2,
  search: 2,
  testing: 2,
  code: 2, // coding environments (sandbox + envs + rubrics)
  train: 3,
  dashboard: 4,
  cli: 5,
  'index.ts': 6, // the package root
};

interface Edge {
  file: string; // relative to src/
  from: string; // folder
  to: string; // folder
  target: string; // the imported module, relative to src/
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' || e.name === 'web' ? [] : sourceFiles(join(dir, e.name));
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [];
  });
}

/** Every import (static, dynamic, type-only) from one src/ folder into another. */
function crossFolderImports(): Edge[] {
  const edges: Edge[] = [];
  for (const path of sourceFiles(SRC)) {
    const text = readFileSync(path, 'utf8');
    const file = relative(SRC, path);
    const from = file.split('/')[0]!;
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = relative(SRC, normalize(join(dirname(path), m[1]!)));
      const to = target.split('/')[0]!;
      if (to !== from && !to.startsWith('..')) edges.push({ file, from, to, target });
    }
  }
  return edges;
}

/** The edges that do not point strictly down, as readable lines. */
function violations(edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const a = LAYERS[e.from];
    const b = LAYERS[e.to];
    if (a === undefined) out.push(`${e.file}: folder '${e.from}' has no layer; add it to LAYERS`);
    else if (b === undefined) out.push(`${e.file}: imports '${e.to}', which has no layer`);
    else if (b >= a) out.push(`${e.file}: ${e.from} (layer ${a}) imports ${e.to} (layer ${b}); imports must point to a lower layer`);
  }
  return out;
}

/** Imports by cli/ and dashboard/ of another folder's internals instead of its index.ts. */
function internalImports(edges: readonly Edge[]): string[] {
  return edges
    .filter((e) => (e.from === 'cli' || e.from === 'dashboard') && e.to !== 'index.ts' && !e.target.endsWith('/index.js'))
    .map((e) => `${e.file}: imports ${e.target}; use ${e.to}/index.ts (its public surface)`);
}

describe('architecture', () => {
  it('every import points down the layers', () => {
    const edges = crossFolderImports();
    expect(edges.length).toBeGreaterThan(50); // the scan sees the real imports
    expect(violations(edges)).toEqual([]);
  });

  it('cli and dashboard use other folders through their public surface only', () => {
    const edges = crossFolderImports();
    expect(edges.filter((e) => e.from === 'cli').length).toBeGreaterThan(10);
    expect(internalImports(edges)).toEqual([]);
    expect(internalImports([{ file: 'cli/x.ts', from: 'cli', to: 'train', target: 'train/config.js' }])).toEqual([
      'cli/x.ts: imports train/config.js; use train/index.ts (its public surface)',
    ]);
  });

  it('core imports nothing from keiko', () => {
    expect(crossFolderImports().filter((e) => e.from === 'core')).toEqual([]);
  });

  it('reports an import that runs back up, or sideways', () => {
    expect(
      violations([
        { file: 'core/x.ts', from: 'core', to: 'train', target: 'train/index.js' },
        { file: 'envs/y.ts', from: 'envs', to: 'rubrics', target: 'rubrics/index.js' },
        { file: 'train/z.ts', from: 'train', to: 'core', target: 'core/index.js' },
      ]),
    ).toEqual([
      'core/x.ts: core (layer 0) imports train (layer 3); imports must point to a lower layer',
      'envs/y.ts: envs (layer 1) imports rubrics (layer 1); imports must point to a lower layer',
    ]);
  });
});
