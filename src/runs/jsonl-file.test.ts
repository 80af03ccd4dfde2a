import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonlCache } from './jsonl-file.js';

const Row = z.object({ n: z.number() });
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keiko-jsonl-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
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
