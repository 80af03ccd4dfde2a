import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { normalizeAnswer } from '../../rubrics/answer-match.js';
import { readJsonlCorpus } from '../corpus/jsonl-source.js';
import type { SearchDocument } from '../corpus/document.js';
import { LocalSearchIndex } from '../local-index.js';
import { synthesizeQa } from './qa-synth.js';

// A small corpus keiko does not ship, written as a user would: JSONL rows with links, facts, aliases.
const tools = [
  ['grep', 'print lines that match patterns', 'searches each input file for lines containing a match to the given patterns and prints them', 'Version 3.8'],
  ['sed', 'stream editor for filtering and transforming text', 'reads input streams line by line and applies editing scripts written in a small language', 'Version 4.9'],
  ['awk', 'pattern scanning and processing language', 'executes programs of pattern action pairs over records split into fields by separators', 'Version 5.2'],
  ['tar', 'an archiving utility', 'stores many files together in one archive file and restores them from tape or disk archives', 'Version 1.34'],
  ['gzip', 'compress or expand files', 'reduces the size of the named files using Lempel-Ziv coding and replaces each one with a compressed copy', 'Version 1.12'],
  ['rsync', 'a fast remote file copying tool', 'synchronises directories between machines over ssh sending only the differences between source and destination', 'Version 3.2'],
  ['cron', 'daemon to execute scheduled commands', 'wakes up every minute and examines stored crontab tables to run jobs whose schedule matches the current time', 'Version 3.0'],
  ['ssh', 'remote login client', 'connects and logs into a remote machine with encrypted communication between two untrusted hosts over a network', 'Version 9.2'],
];
const rows = tools.map(([name, summary, body, version], i) => ({
  id: name,
  url: `https://tools.local/${name}`,
  title: `${name}(1)`,
  text: `${name} - ${summary}: the ${name} program ${body}. It reads ${i % 2 ? 'standard input when no file is given' : 'the named files one after another'} and writes at most ${i + 2} thousand lines per run. It was first released in ${1970 + i * 3} by the ${['GNU', 'BSD', 'Bell Labs', 'OpenBSD'][i % 4]} project. See also ${tools[(i + 1) % tools.length]![0]}(1) and ${tools[(i + 2) % tools.length]![0]}(1). ${version}.`,
  site: 'tools',
  links: [1, 2].map((d) => ({ text: `${tools[(i + d) % tools.length]![0]}(1)`, url: `https://tools.local/${tools[(i + d) % tools.length]![0]}` })),
  facts: { name, released: 1970 + i * 3 },
  aliases: [`${name}(1)`],
}));
const dir = mkdtempSync(join(tmpdir(), 'keiko-generic-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('generic QA synthesis on a user corpus', async () => {
  const path = join(dir, 'tools.jsonl');
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const docs: SearchDocument[] = [];
  for await (const d of readJsonlCorpus({ path })) docs.push(d);
  const index = await LocalSearchIndex.build({ documents: docs, dir: join(dir, 'index') });

  it('carries facts and aliases from JSONL rows into the index', async () => {
    expect(docs[0]).toMatchObject({ facts: { name: 'grep', released: 1970 }, aliases: ['grep(1)'] });
    const reloaded = LocalSearchIndex.load(join(dir, 'index'));
    expect((await reloaded.getDocument({ url: 'https://tools.local/sed' }))!.facts).toEqual({ name: 'sed', released: 1973 });
    reloaded.close();
  });

  it('writes describe-page, link-hop and page-fact questions that pass the leak, ambiguity and hop checks', () => {
    const { items, rejected } = synthesizeQa({ index, count: 30, seed: 1, answerField: 'name', retrievalDepth: 1, kinds: ['describe-page', 'link-hop', 'page-fact'] });
    const kinds = new Set(items.map((i) => i.kind));
    expect(kinds).toEqual(new Set(['describe-page', 'link-hop', 'page-fact']));
    for (const it of items) {
      const q = normalizeAnswer(it.question);
      // No leak: the answer's words are not in the question (a link-hop names its first page, not the answer).
      for (const a of it.answer) for (const w of normalizeAnswer(a).split(' ')) if (w.length > 2 && !/^\d+$/.test(w)) expect(q.split(' '), it.question).not.toContain(w);
      const last = index.document(index.docIndex({ url: it.supportingUrls.at(-1)! }));
      if (it.kind !== 'page-fact') expect(it.answer[0]).toBe(last.facts!.name);
      else expect(normalizeAnswer(last.text)).toContain(normalizeAnswer(it.answer[0]!));
      if (it.kind === 'link-hop') {
        // The first hop is necessary: the clue alone does not find the answer's page (depth 1 here: the corpus is tiny).
        const clue = /described as: "(.*)"\. What/.exec(it.question)![1]!.replace(/___/g, ' ');
        expect(index.hit(index.search(clue, { k: 1 })[0]!).url).not.toBe(it.supportingUrls[1]);
        const first = index.document(index.docIndex({ url: it.supportingUrls[0]! }));
        expect(first.links.map((l) => l.url)).toContain(it.supportingUrls[1]);
      }
    }
    expect(items.every((i) => i.answer.length >= 1)).toBe(true);
    expect(Object.keys(rejected).every((r) => /^(describe-page|link-hop|page-fact):|^duplicate$/.test(r))).toBe(true);
  });

  it('counts a clue word that starts with or shares the stem of an answer word as a leak', async () => {
    const { giveaway } = await import('./generic-templates.js');
    expect(giveaway('fwmark', 'fw')).toBe(true);
    expect(giveaway('sampling', 'sample')).toBe(true);
    expect(giveaway('grep', 'grep')).toBe(true);
    expect(giveaway('packets', 'sample')).toBe(false);
    expect(giveaway('awkward', 'sed')).toBe(false);
  });

  it('answers with the title by default, and accepts aliases', () => {
    const { items } = synthesizeQa({ index, count: 5, seed: 2, kinds: ['describe-page'] });
    expect(items.length).toBeGreaterThan(0);
    for (const it of items) {
      expect(it.answer[0]).toMatch(/\(1\)$/);
    }
  });

  it('fails with a clear error and the rejection report when nothing can be generated', async () => {
    const tiny = await LocalSearchIndex.build({ documents: [{ id: 'a', url: 'https://x.local/a', title: 'A', text: 'Short.', site: 'x', links: [] }] });
    expect(() => synthesizeQa({ index: tiny, count: 5, kinds: ['describe-page', 'link-hop'] })).toThrow(ConfigError);
    expect(() => synthesizeQa({ index: tiny, count: 5, kinds: ['describe-page', 'link-hop'] })).toThrow(/no questions could be synthesised.*describe-page:no-clue=1.*link-hop:no-links=1/);
    expect(() => synthesizeQa({ index: tiny, count: 5, kinds: ['nope'] })).toThrow(/unknown question kind nope; available: .*describe-page/);
  });
});
