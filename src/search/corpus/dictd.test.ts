import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeDictdNumber, encodeDictdNumber, parseDictdIndex, readDictd, reflow } from './dictd.js';
import { writeDictd } from './dictd-writer.js';

describe('dictd', () => {
  it('base64 numbers round-trip and match dictfmt values', () => {
    expect(decodeDictdNumber('A')).toBe(0);
    expect(decodeDictdNumber('BA')).toBe(64);
    expect(decodeDictdNumber('Gb9L')).toBe(6 * 64 ** 3 + 27 * 64 ** 2 + 61 * 64 + 11);
    for (const n of [0, 1, 63, 64, 4095, 123456789]) expect(decodeDictdNumber(encodeDictdNumber(n))).toBe(n);
    expect(parseDictdIndex('foo\tB\tC\nbar baz\tBA\tK\n')).toEqual([
      { headword: 'foo', offset: 1, length: 2 },
      { headword: 'bar baz', offset: 64, length: 10 },
    ]);
  });

  it('reads entries, merges aliases, and turns {cross references} into links', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keiko-dictd-'));
    const { indexPath, dictPath } = writeDictd({
      dir,
      name: 'mini',
      entries: [
        {
          headwords: ['abstract data type', 'ADT'],
          body: '   <programming> A kind of {data\n   abstraction} where a type is hidden behind\n   {access functions}. See {Objects} and {Cook paper\n   (http://example.com/oop.pdf)} and {nothing here}.',
        },
        { headwords: ['data abstraction'], body: '   Hiding data; see {abstract data type}.' },
        { headwords: ['access function'], body: '   A function that reads a {Café} field.' },
        { headwords: ['object'], body: '   A thing.' },
        { headwords: ['Café'], body: '   A small restaurant.' },
      ],
    });
    const docs = readDictd({ indexPath, dictPath, site: 'mini', links: true });
    expect(docs.map((d) => d.title)).toEqual(['abstract data type', 'data abstraction', 'access function', 'object', 'Café']);
    const adt = docs[0]!;
    expect(adt.url).toBe('https://mini.local/wiki/abstract_data_type');
    expect(adt.id).toBe('mini:abstract_data_type');
    // Re-flowed into one line; braces removed; the URL inside a reference is dropped from the text.
    expect(adt.text).toBe('<programming> A kind of data abstraction where a type is hidden behind access functions. See Objects and Cook paper and nothing here.');
    expect(adt.links).toEqual([
      { text: 'data abstraction', url: 'https://mini.local/wiki/data_abstraction' },
      { text: 'access functions', url: 'https://mini.local/wiki/access_function' },
      { text: 'Objects', url: 'https://mini.local/wiki/object' },
    ]);
    expect(docs[1]!.links).toEqual([{ text: 'abstract data type', url: adt.url }]);
    // Non-ASCII headwords survive the index's byte offsets and get percent-encoded URLs.
    expect(docs[2]!.links[0]!.url).toBe('https://mini.local/wiki/Caf%C3%A9');
    // With links off (GCIDE style), braces are stripped and nothing is linked.
    const plain = readDictd({ indexPath, dictPath, site: 'mini', links: false });
    expect(plain[0]!.links).toEqual([]);
    expect(plain[0]!.text).toContain('data abstraction where');
  });

  it('reflow keeps line breaks in indented blocks', () => {
    expect(reflow(['   one', '   two', '', '   a', '          verse line', '          second'])).toBe('one two\n\na\n       verse line\n       second');
  });
});

// The real FOLDOC database, when scripts/search-setup.sh has installed it (Debian dict-foldoc).
const FOLDOC = '/usr/share/dictd/foldoc.index';
describe.runIf(existsSync(FOLDOC))('FOLDOC from Debian', () => {
  it('parses entries and turns cross-references into links', () => {
    const docs = readDictd({ indexPath: FOLDOC, dictPath: '/usr/share/dictd/foldoc.dict.dz', site: 'foldoc', links: true });
    expect(docs.length).toBeGreaterThan(10_000);
    const adt = docs.find((d) => d.title === 'abstract data type')!;
    expect(adt.url).toBe('https://foldoc.local/wiki/abstract_data_type');
    expect(adt.text).toContain('A kind of data abstraction where a type');
    expect(adt.links.map((l) => l.url)).toContain('https://foldoc.local/wiki/data_abstraction');
    // Every link points at a page that exists.
    const urls = new Set(docs.map((d) => d.url));
    for (const d of docs.slice(0, 2000)) for (const l of d.links) expect(urls.has(l.url)).toBe(true);
  });
});
