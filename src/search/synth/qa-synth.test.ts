import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeAnswer } from '../../rubrics/answer-match.js';
import { readDictd } from '../corpus/dictd.js';
import { writeDictd } from '../corpus/dictd-writer.js';
import type { SearchDocument } from '../corpus/document.js';
import { geoSite, type GeoData } from '../corpus/geo-source.js';
import { LocalSearchIndex } from '../local-index.js';
import { QaItem } from './qa-item.js';
import { synthesizeQa } from './qa-synth.js';

const city = (cityId: number, name: string, country: string, population: number) => ({ cityId, name, country, population, loc: { coordinates: [cityId / 10, cityId / 20] as [number, number] } });

const geo: GeoData = {
  continents: { EU: 'Europe', SA: 'South America' },
  languages: { fr: { name: 'French' }, es: { name: 'Spanish' }, de: { name: 'German' } },
  countries: {
    FR: { name: 'France', native: 'France', phone: [33], continent: 'EU', capital: 'Paris', currency: ['EUR'], languages: ['fr'] },
    DE: { name: 'Germany', native: 'Deutschland', phone: [49], continent: 'EU', capital: 'Berlin', currency: ['EUR'], languages: ['de'] },
    PE: { name: 'Peru', native: 'Perú', phone: [51], continent: 'SA', capital: 'Lima', currency: ['PEN'], languages: ['es'] },
    ES: { name: 'Spain', native: 'España', phone: [34], continent: 'EU', capital: 'Madrid', currency: ['EUR'], languages: ['es'] },
  },
  cities: [
    city(1, 'Paris', 'FR', 2_138_551),
    city(2, 'Lyon', 'FR', 522_228),
    city(3, 'Berlin', 'DE', 3_426_354),
    city(4, 'Hamburg', 'DE', 1_739_117),
    city(5, 'Lima', 'PE', 7_737_002),
    city(6, 'Arequipa', 'PE', 841_130),
    city(7, 'Madrid', 'ES', 3_255_944),
    city(8, 'Valencia', 'ES', 814_208),
    city(9, 'Trujillo', 'PE', 747_450),
    city(10, 'Trujillo', 'ES', 9_000),
    city(11, 'Córdoba', 'ES', 325_708),
  ],
};

function dict(dir: string): SearchDocument[] {
  const { indexPath, dictPath } = writeDictd({
    dir,
    name: 'foldoc',
    entries: [
      { headwords: ['compiler'], body: '   <programming> A program that translates source code written in a high-level language into {machine code} for a processor.' },
      { headwords: ['machine code'], body: '   <hardware> The binary instructions that a central processing unit executes directly without any translation.' },
      { headwords: ['garbage collection'], body: '   <memory> Automatic reclamation of heap storage that the running program can no longer reach or use again.' },
    ],
  });
  return readDictd({ indexPath, dictPath, site: 'foldoc', links: true });
}

describe('synthesizeQa', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keiko-synth-'));
  const docs = [...dict(dir), ...geoSite({ data: geo, minPopulation: 1000 })];
  const index = await LocalSearchIndex.build({ documents: docs });
  const byUrl = new Map(docs.map((d) => [d.url, d]));

  it('makes unique, solvable single- and multi-hop questions with recorded support', () => {
    const { items, rejected } = synthesizeQa({ index, count: 40, seed: 3 });
    expect(items.length).toBeGreaterThanOrEqual(15);
    for (const it of items) QaItem.parse(it);
    const kinds = new Set(items.map((i) => i.kind));
    for (const k of ['capital', 'city-population', 'city-country-capital', 'define-term', 'linked-term', 'phone-country-largest-city', 'city-by-id']) expect(kinds, k).toContain(k);
    expect(new Set(items.map((i) => i.question)).size).toBe(items.length);
    for (const it of items) {
      // Solvable: every supporting page exists and the answer appears on the last one.
      const pages = it.supportingUrls.map((u) => byUrl.get(u));
      expect(pages.every(Boolean), it.question).toBe(true);
      const last = pages.at(-1)!;
      expect(normalizeAnswer(last.title + ' ' + last.text), it.question).toContain(normalizeAnswer(it.answer[0]!));
      expect(it.hops).toBe(it.supportingUrls.length);
      // The asked-about entity is hidden in description questions.
      if (it.kind === 'define-term') expect(it.question.toLowerCase()).not.toContain(it.answer[0]!.toLowerCase());
    }
    // A city asked by its GeoNames id: the id search ranks its page first, and both Trujillos can be asked.
    for (const it of items.filter((i) => i.kind === 'city-by-id')) {
      const id = /GeoNames id (\d+)\?$/.exec(it.question)![1]!;
      expect(it.supportingUrls).toEqual([`https://geo.local/city/${id}`]);
      expect(index.hit(index.search(`GeoNames id ${id}`, { k: 1 })[0]!).url).toBe(it.supportingUrls[0]);
    }
    // Trujillo exists in two countries: no "city of Trujillo" multi-hop question can be unique.
    expect(items.some((i) => i.kind === 'city-country-capital' && i.question.includes('Trujillo'))).toBe(false);
    // Calling code + continent pins down one country, so Spain/France/Germany questions are fine.
    const multi = items.find((i) => i.kind === 'city-country-capital' && i.question.includes('Hamburg'));
    if (multi) expect(multi.answer).toEqual(['Berlin']);
    expect(typeof rejected).toBe('object');
  });

  it('splits train/test by answer entity and is deterministic', () => {
    const a = synthesizeQa({ index, count: 40, seed: 3, testFraction: 0.4 });
    const b = synthesizeQa({ index, count: 40, seed: 3, testFraction: 0.4 });
    expect(a).toEqual(b);
    const train = new Set(a.items.filter((i) => i.split === 'train').map((i) => i.answerEntity));
    const test = new Set(a.items.filter((i) => i.split === 'test').map((i) => i.answerEntity));
    expect(train.size).toBeGreaterThan(0);
    expect(test.size).toBeGreaterThan(0);
    for (const e of test) expect(train.has(e)).toBe(false);
  });
});
