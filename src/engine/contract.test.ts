// The engine's wire contract, checked from both sides: the engine's OpenAPI schema (generated now,
// by FastAPI, from the pydantic models it validates with) against keiko's zod schemas in ./wire.ts.
// Fails when a field, a type, nullability or optionality (= who owns the default) differs.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defaultEnginePython } from './process.js';
import { ENGINE_ROUTES, snakeCase } from './wire.js';

type Json = Record<string, unknown>;

/** A schema reduced to what the contract is about. */
type Shape =
  | { kind: 'integer' | 'number' | 'string' | 'boolean' | 'any'; nullable: boolean }
  | { kind: 'enum'; values: string[]; nullable: boolean }
  | { kind: 'array'; items: Shape; nullable: boolean }
  | { kind: 'tuple'; items: Shape[]; nullable: boolean }
  | { kind: 'union'; options: Shape[]; nullable: boolean }
  | { kind: 'object'; fields: Record<string, { shape: Shape; required: boolean; hasDefault: boolean }>; nullable: boolean };

/** Normalises a JSON schema (OpenAPI's or zod's) into a `Shape`; `defs` resolves `$ref`s. */
function shapeOf(schema: Json, defs: Record<string, Json>, renameKey: (k: string) => string = (k) => k): Shape {
  if (typeof schema.$ref === 'string') return shapeOf(defs[schema.$ref.split('/').at(-1)!]!, defs, renameKey);
  const alternatives = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (alternatives) {
    const nonNull = alternatives.filter((a) => a.type !== 'null');
    const nullable = nonNull.length < alternatives.length;
    const options = nonNull.map((a) => shapeOf(a, defs, renameKey));
    if (options.length === 1) return { ...options[0]!, nullable: nullable || options[0]!.nullable };
    if (options.every((o) => o.kind === 'integer' || o.kind === 'number')) {
      return { kind: options.every((o) => o.kind === 'integer') ? 'integer' : 'number', nullable };
    }
    if (options.every((o) => o.kind === 'enum')) return { kind: 'enum', values: [...new Set(options.flatMap((o) => (o.kind === 'enum' ? o.values : [])))].sort(), nullable };
    // Number | list[Number] and the like: merge integer/number alternatives, keep the rest
    const merged: Shape[] = [];
    for (const o of options) {
      const numeric = merged.find((m) => (m.kind === 'number' || m.kind === 'integer') && (o.kind === 'number' || o.kind === 'integer'));
      if (numeric) numeric.kind = numeric.kind === 'integer' && o.kind === 'integer' ? 'integer' : 'number';
      else merged.push(o);
    }
    return { kind: 'union', options: merged.sort((a, b) => a.kind.localeCompare(b.kind)), nullable };
  }
  if (Array.isArray(schema.type)) {
    // zod writes `type: ['number', 'null']` where pydantic writes anyOf
    const types = schema.type as string[];
    return shapeOf({ ...schema, type: undefined, anyOf: types.map((type) => ({ ...schema, type })) }, defs, renameKey);
  }
  if (Array.isArray(schema.enum)) return { kind: 'enum', values: schema.enum.map(String).sort(), nullable: false };
  if (schema.const !== undefined) return { kind: 'enum', values: [String(schema.const)], nullable: false };
  switch (schema.type) {
    case 'integer':
    case 'number':
    case 'string':
    case 'boolean':
      return { kind: schema.type, nullable: false };
    case 'array':
      if (Array.isArray(schema.prefixItems)) return { kind: 'tuple', items: (schema.prefixItems as Json[]).map((i) => shapeOf(i, defs, renameKey)), nullable: false };
      return { kind: 'array', items: shapeOf((schema.items as Json | undefined) ?? {}, defs, renameKey), nullable: false };
    case 'object': {
      const required = new Set((schema.required as string[] | undefined) ?? []);
      const fields: Record<string, { shape: Shape; required: boolean; hasDefault: boolean }> = {};
      for (const [key, value] of Object.entries((schema.properties as Record<string, Json> | undefined) ?? {})) {
        fields[renameKey(key)] = { shape: shapeOf(value, defs, renameKey), required: required.has(key), hasDefault: 'default' in value };
      }
      return { kind: 'object', fields, nullable: false };
    }
    default:
      return { kind: 'any', nullable: false };
  }
}

/** Every difference between keiko's side and the engine's, one line each (empty: they agree). */
function compare(keiko: Shape, engine: Shape, path: string, side: 'request' | 'response'): string[] {
  const out: string[] = [];
  if (keiko.kind !== engine.kind) return [`${path}: keiko has ${keiko.kind}, the engine ${engine.kind}`];
  if (keiko.nullable !== engine.nullable) out.push(`${path}: nullable on ${keiko.nullable ? 'keiko' : 'the engine'}'s side only`);
  if (keiko.kind === 'enum' && engine.kind === 'enum' && keiko.values.join() !== engine.values.join()) {
    out.push(`${path}: values [${keiko.values.join(', ')}] vs the engine's [${engine.values.join(', ')}]`);
  }
  if (keiko.kind === 'array' && engine.kind === 'array') out.push(...compare(keiko.items, engine.items, `${path}[]`, side));
  if ((keiko.kind === 'tuple' && engine.kind === 'tuple') || (keiko.kind === 'union' && engine.kind === 'union')) {
    const a = keiko.kind === 'tuple' ? keiko.items : (keiko as { options: Shape[] }).options;
    const b = engine.kind === 'tuple' ? engine.items : (engine as { options: Shape[] }).options;
    if (a.length !== b.length) out.push(`${path}: ${a.length} alternatives/items vs the engine's ${b.length}`);
    else a.forEach((s, i) => out.push(...compare(s, b[i]!, `${path}<${i}>`, side)));
  }
  if (keiko.kind === 'object' && engine.kind === 'object') {
    for (const key of new Set([...Object.keys(keiko.fields), ...Object.keys(engine.fields)])) {
      const k = keiko.fields[key];
      const e = engine.fields[key];
      const at = `${path}.${key}`;
      if (!k) out.push(`${at}: the engine has it, keiko does not`);
      else if (!e) out.push(`${at}: keiko has it, the engine does not`);
      else {
        if (k.hasDefault) out.push(`${at}: keiko states a default; defaults live on the engine's side only`);
        // a request field the engine does not require is one it has a default for
        if (side === 'request' && k.required !== e.required) {
          out.push(k.required ? `${at}: keiko requires it but the engine has a default` : `${at}: optional in keiko but the engine requires it`);
        }
        if (side === 'response' && k.required !== e.required) out.push(`${at}: ${k.required ? 'always' : 'sometimes'} present for keiko, ${e.required ? 'always' : 'sometimes'} for the engine`);
        out.push(...compare(k.shape, e.shape, at, side));
      }
    }
  }
  return out;
}

function keikoShape(schema: z.ZodType, io: 'input' | 'output'): Shape {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return shapeOf(json, (json.$defs as Record<string, Json> | undefined) ?? {}, snakeCase);
}

let openapi: Json | undefined;
let python: string | undefined;
try {
  python = defaultEnginePython();
} catch {
  python = undefined;
}

function engineSchema(): Json {
  openapi ??= JSON.parse(execFileSync(python!, ['-m', 'keiko_engine', 'openapi'], { encoding: 'utf8', timeout: 120_000 })) as Json;
  return openapi;
}

function engineBody(route: { method: string; path: string }, which: 'request' | 'response'): Shape {
  const doc = engineSchema();
  const op = (doc.paths as Record<string, Record<string, Json>>)[route.path]?.[route.method.toLowerCase()];
  if (!op) throw new Error(`the engine has no ${route.method} ${route.path}`);
  const content =
    which === 'request'
      ? ((op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined)
      : (((op.responses as Record<string, Json>)['200'] as Json).content as Record<string, Json> | undefined);
  const schema = content?.['application/json']?.schema as Json | undefined;
  if (!schema) throw new Error(`the engine's ${route.path} declares no ${which} schema`);
  return shapeOf(schema, (doc.components as { schemas: Record<string, Json> }).schemas);
}

describe.skipIf(!python)('engine wire contract (OpenAPI from the engine vs src/engine/wire.ts)', () => {
  for (const [name, route] of Object.entries(ENGINE_ROUTES)) {
    if (route.request && route.requestKeys === 'camel') {
      it(`${name}: request ${route.method} ${route.path}`, () => {
        expect(compare(keikoShape(route.request, 'input'), engineBody(route, 'request'), name, 'request')).toEqual([]);
      });
    }
    if (route.requestKeys === 'camel') {
      it(`${name}: response`, () => {
        expect(compare(keikoShape(route.response, 'output'), engineBody(route, 'response'), name, 'response')).toEqual([]);
      });
    }
  }

  it('reports drift: a missing field, a changed type, a default stated on both sides', () => {
    const engine = engineBody(ENGINE_ROUTES.forwardBackward, 'request');
    const theirs = structuredClone(engine) as Extract<Shape, { kind: 'object' }>;
    delete theirs.fields.scale;
    const sequences = theirs.fields.sequences!.shape as Extract<Shape, { kind: 'array' }>;
    const sequence = sequences.items as Extract<Shape, { kind: 'object' }>;
    sequence.fields.policy_version!.shape = { kind: 'string', nullable: true };
    const ours = keikoShape(ENGINE_ROUTES.forwardBackward.request.extend({ microBatchSize: z.number().int().nullable().default(8) }), 'input');
    expect(compare(ours, theirs, 'fb', 'request')).toEqual([
      'fb.sequences[].policy_version: keiko has integer, the engine string',
      'fb.scale: keiko has it, the engine does not',
      'fb.micro_batch_size: keiko states a default; defaults live on the engine\'s side only',
    ]);
    const required = keikoShape(ENGINE_ROUTES.optimStep.request.extend({ eps: z.number() }), 'input');
    expect(compare(required, engineBody(ENGINE_ROUTES.optimStep, 'request'), 'os', 'request')).toEqual(['os.eps: keiko requires it but the engine has a default']);
  });
});
