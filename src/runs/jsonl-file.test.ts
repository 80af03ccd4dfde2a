import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonlCache, parseJsonl } from './jsonl-file.js';

const Row = z.object({ n: z.number() });
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keiko-jsonl-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseJsonl', () => {
  it('keeps valid lines, ignores blank ones, and skips bad and torn lines with line numbers', () => {
    const read = parseJsonl({ text: '{"n":1}\n\n{"n":"x"}\nnope\n{"n":2}\n{"n":', schema: Row, label: 'f' });
    expect(read.items).toEqual([{ n: 1 }, { n: 2 }]);
    expect(read.lines).toEqual([1, 5]);
    expect(read.skipped).toBe(3);
    expect(read.warnings[0]).toMatch(/^f:3: skipped: n:/);
    expect(read.warnings[1]).toMatch(/^f:4: skipped: invalid JSON/);
    expect(read.warnings[2]).toBe('f:6: skipped: torn last line (still being written?)');
  });
});

describe('JsonlCache', () => {
  it('reuses an unchanged file, re-reads a grown one, and shares one parse between concurrent reads', async () => {
    const path = join(dir, 'a.jsonl');
    await writeFile(path, '{"n":1}\n');
    const cache = new JsonlCache();
    const [a, b] = await Promise.all([cache.read({ path, schema: Row }), cache.read({ path, schema: Row })]);
    expect(a).toBe(b);
    expect(await cache.read({ path, schema: Row })).toBe(a);
    await appendFile(path, '{"n":2}\n');
    expect((await cache.read({ path, schema: Row }))!.items).toEqual([{ n: 1 }, { n: 2 }]);
    expect(await cache.read({ path: join(dir, 'missing.jsonl'), schema: Row })).toBeUndefined();
  });
});
