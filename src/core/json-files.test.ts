import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { dropTornTail, JsonlAppender, parseJsonl, readJsonlFile, toJsonl, writeFileAtomic } from './json-files.js';

const Row = z.object({ n: z.number() });
const tmp = () => mkdtemp(join(tmpdir(), 'keiko-json-files-'));

describe('parseJsonl (the JSONL policy)', () => {
  it('keeps valid lines, ignores blank ones, and skips corrupt lines and a torn last line with line numbers', () => {
    const read = parseJsonl({ text: '{"n":1}\n\n{"n":"x"}\nnope\n{"n":2}\n{"n":', schema: Row, label: 'f' });
    expect(read.items).toEqual([{ n: 1 }, { n: 2 }]);
    expect(read.lines).toEqual([1, 5]);
    expect(read.skipped).toBe(3);
    expect(read.torn).toBe(true);
    expect(read.bad.map((b) => [b.line, b.torn])).toEqual([
      [3, false],
      [4, false],
      [6, true],
    ]);
    expect(read.warnings[0]).toMatch(/^f:3: skipped: n:/);
    expect(read.warnings[1]).toMatch(/^f:4: skipped: invalid JSON/);
    expect(read.warnings[2]).toBe('f:6: skipped: torn last line (still being written?)');
  });

  it('reads a last line without its newline when it parses (a hand-written file)', () => {
    const read = parseJsonl({ text: '{"n":1}\n{"n":2}', schema: Row });
    expect(read.items).toEqual([{ n: 1 }, { n: 2 }]);
    expect(read).toMatchObject({ skipped: 0, torn: false, bad: [] });
  });

  it('counts every skipped line but keeps only the first 20 reasons', () => {
    const read = parseJsonl({ text: 'x\n'.repeat(50) + '{"n":1}\n', schema: Row });
    expect(read.skipped).toBe(50);
    expect(read.bad).toHaveLength(20);
    expect(read.warnings).toHaveLength(20);
    expect(read.items).toEqual([{ n: 1 }]);
  });
});

describe('JSONL files', () => {
  it('round-trips appended lines, reads a missing file as undefined, and cuts a torn tail before appending again', async () => {
    const dir = await tmp();
    const path = join(dir, 'sub', 'a.jsonl');
    const out = await JsonlAppender.open(path);
    out.write({ n: 1 });
    out.write({ n: 2 });
    await out.close();
    await writeFile(path, (await readFile(path, 'utf8')) + '{"n":');
    expect((await readJsonlFile({ path, schema: Row }))!.torn).toBe(true);
    expect(await dropTornTail(path)).toBe(5);
    expect(await readFile(path, 'utf8')).toBe(toJsonl([{ n: 1 }, { n: 2 }]));
    expect(await readJsonlFile({ path: join(dir, 'missing.jsonl'), schema: Row })).toBeUndefined();
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file whole and leaves no temp file behind', async () => {
    const dir = await tmp();
    const path = join(dir, 'atomic.json');
    await writeFileAtomic(path, 'old');
    await writeFileAtomic(path, 'new');
    expect(await readFile(path, 'utf8')).toBe('new');
    expect((await readdir(dir)).filter((n) => n.startsWith('atomic'))).toEqual(['atomic.json']);
  });

  it('removes its temp file when the rename fails', async () => {
    const dir = await tmp();
    const target = join(dir, 'a-folder');
    await mkdir(join(target, 'inside'), { recursive: true }); // a non-empty folder cannot be renamed over
    await expect(writeFileAtomic(target, 'x')).rejects.toThrow();
    expect((await readdir(dir)).filter((n) => n.startsWith('a-folder'))).toEqual(['a-folder']);
  });
});
