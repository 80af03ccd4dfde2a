import { Rng } from '../../core/rng.js';
import { normalizeAnswer } from '../../rubrics/answer-match.js';
import type { SearchDocument } from '../corpus/document.js';
import type { LocalSearchIndex } from '../local-index.js';
import { hashSeed } from '../web/search-web.js';
import { QA_SCHEMA_VERSION, type QaItem } from './qa-item.js';

export interface SynthOptions {
  index: LocalSearchIndex;
  /** Questions wanted (fewer come out when the corpus cannot support that many). */
  count: number;
  seed?: number;
  /** Share of answer entities held out for the test split. Default 0.2. */
  testFraction?: number;
  /** A supporting page must rank within this many results to count as findable. Default 10. */
  retrievalDepth?: number;
  /** Which templates to use (default: all). */
  kinds?: readonly string[];
}

export interface SynthResult {
  items: QaItem[];
  rejected: Record<string, number>;
}

type Candidate = Omit<QaItem, 'id' | 'split' | 'schemaVersion'> & {
  /**
   * Per hop: the query that must retrieve supportingUrls[i] within `depth` results (depth 1 = the
   * clue singles out that page: the uniqueness check for descriptions), or undefined when the page is
   * reached by a link from the previous hop.
   */
  checks: ({ query: string; depth?: number } | undefined)[];
};

interface Corpus {
  countries: SearchDocument[];
  cities: SearchDocument[];
  terms: SearchDocument[];
  byUrl: Map<string, SearchDocument>;
  cityNameCount: Map<string, number>;
  cityNameCountryCount: Map<string, number>;
}

const fact = (d: SearchDocument, k: string) => d.facts?.[k];
const str = (d: SearchDocument, k: string) => String(d.facts?.[k] ?? '');

function scan(index: LocalSearchIndex): Corpus {
  const c: Corpus = { countries: [], cities: [], terms: [], byUrl: new Map(), cityNameCount: new Map(), cityNameCountryCount: new Map() };
  for (let i = 0; i < index.docs.size; i++) {
    const d = index.document(i);
    const type = fact(d, 'type');
    if (type === 'country') c.countries.push(d);
    else if (type === 'city') {
      c.cities.push(d);
      const n = normalizeAnswer(str(d, 'name'));
      c.cityNameCount.set(n, (c.cityNameCount.get(n) ?? 0) + 1);
      const nc = `${n}|${str(d, 'countryCode')}`;
      c.cityNameCountryCount.set(nc, (c.cityNameCountryCount.get(nc) ?? 0) + 1);
    } else if ((d.site === 'foldoc' || d.site === 'jargon') && d.text.length > 80) c.terms.push(d);
    if (type === 'country' || type === 'city' || d.site === 'foldoc' || d.site === 'jargon') c.byUrl.set(d.url, d);
  }
  return c;
}

/** First sentence of a definition, with the headword hidden, or undefined when too short/long. */
function clue(d: SearchDocument): string | undefined {
  const body = d.text.replace(/^<[^>]+>\s*/, '').replace(/^\([^)]*\)\s*/, '').replace(/\s+/g, ' ');
  const m = /^(.{30,220}?[.!?])(\s|$)/.exec(body);
  if (!m) return undefined;
  let s = m[1]!;
  const words = d.title.split(/\s+/).filter((w) => w.length > 2);
  if (words.length === 0) return undefined;
  for (const w of [d.title, ...words]) s = s.replace(new RegExp(`\\b${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'gi'), '___');
  return s.includes('___') && s.replace(/___/g, '').trim().length < 25 ? undefined : s;
}

const popAliases = (p: number) => [p.toLocaleString('en-US'), String(p)];

/** Question templates; each yields candidates for one seed document. */
const TEMPLATES: Record<string, (d: SearchDocument, c: Corpus) => Candidate | undefined> = {
  capital(d) {
    const cap = str(d, 'capital');
    if (fact(d, 'type') !== 'country' || !cap) return undefined;
    const q = `What is the capital of ${str(d, 'name')}?`;
    return { question: q, answer: [cap], kind: 'capital', hops: 1, supportingUrls: [d.url], answerEntity: cap, checks: [{ query: q }] };
  },
  'city-population'(d, c) {
    if (fact(d, 'type') !== 'city' || c.cityNameCountryCount.get(`${normalizeAnswer(str(d, 'name'))}|${str(d, 'countryCode')}`) !== 1) return undefined;
    const q = `What is the population of ${str(d, 'name')}, a city in ${str(d, 'country')}, according to GeoNames?`;
    return { question: q, answer: popAliases(Number(fact(d, 'population'))), kind: 'city-population', hops: 1, supportingUrls: [d.url], answerEntity: d.url, checks: [{ query: q }] };
  },
  'city-country-capital'(d, c) {
    if (fact(d, 'type') !== 'city' || c.cityNameCount.get(normalizeAnswer(str(d, 'name'))) !== 1) return undefined;
    const country = c.byUrl.get(d.links[0]?.url ?? '');
    const cap = country ? str(country, 'capital') : '';
    if (!country || !cap || normalizeAnswer(cap) === normalizeAnswer(str(d, 'name'))) return undefined;
    const q = `What is the capital of the country in which the city of ${str(d, 'name')} lies?`;
    return { question: q, answer: [cap], kind: 'city-country-capital', hops: 2, supportingUrls: [d.url, country.url], answerEntity: cap, checks: [{ query: q }, undefined] };
  },
  'phone-country-largest-city'(d, c) {
    if (fact(d, 'type') !== 'country' || !str(d, 'largestCity') || !str(d, 'phone')) return undefined;
    const phone = str(d, 'phone');
    const continent = str(d, 'continent');
    // Obscure the country: name it by its calling code and continent, if that pins it down.
    const same = c.countries.filter((x) => str(x, 'phone') === phone && str(x, 'continent') === continent);
    if (same.length !== 1) return undefined;
    const largest = str(d, 'largestCity');
    const q = `Which is the most populous city of the ${continent} country whose international calling code is +${phone.split(', ')[0]}?`;
    return { question: q, answer: [largest], kind: 'phone-country-largest-city', hops: 1, supportingUrls: [d.url], answerEntity: largest, checks: [{ query: q }] };
  },
  'define-term'(d) {
    const s = clue(d);
    if (!s) return undefined;
    const site = d.site === 'jargon' ? 'hacker slang (the Jargon File)' : 'computing (FOLDOC)';
    const q = `Which term in ${site} is described as: "${s}"?`;
    return { question: q, answer: [d.title], kind: 'define-term', hops: 1, supportingUrls: [d.url], answerEntity: normalizeAnswer(d.title), checks: [{ query: s, depth: 1 }] };
  },
  'city-by-id'(d) {
    // A city named only by its GeoNames id: the answer is read off the page (thousands of distinct names).
    const id = /\/city\/(\d+)$/.exec(d.url)?.[1];
    if (fact(d, 'type') !== 'city' || !id || !d.text.includes(`GeoNames id ${id}`)) return undefined;
    const q = `Which city has the GeoNames id ${id}?`;
    return { question: q, answer: [str(d, 'name')], kind: 'city-by-id', hops: 1, supportingUrls: [d.url], answerEntity: d.url, checks: [{ query: `GeoNames id ${id}`, depth: 1 }] };
  },
  'linked-term'(d, c) {
    if (d.site !== 'foldoc' && d.site !== 'jargon') return undefined;
    for (const l of d.links) {
      const target = c.byUrl.get(l.url);
      if (!target || target.site !== d.site) continue;
      const s = clue(target);
      if (!s || normalizeAnswer(target.title) === normalizeAnswer(d.title)) continue;
      const q = `The entry for "${d.title}" refers to another term that is described as: "${s}". Which term is it?`;
      return { question: q, answer: [target.title], kind: 'linked-term', hops: 2, supportingUrls: [d.url, target.url], answerEntity: normalizeAnswer(target.title), checks: [{ query: d.title }, { query: s, depth: 1 }] };
    }
    return undefined;
  },
};

/** Names of the built-in question templates. */
export const QA_KINDS = Object.keys(TEMPLATES);

/**
 * Synthesizes QA pairs by backtranslation from the corpus: start at an answer entity's page, walk
 * structured facts or links, phrase a question that names the start only indirectly, and keep it
 * only if it is solvable (each supporting page that is not reached by a link ranks within
 * `retrievalDepth` for its hop query) and unique (the identifying detail picks exactly one entity;
 * the question is not a duplicate). Splits train/test by a hash of the answer entity, so no answer
 * appears in both. Deterministic for the same index and seed.
 */
export function synthesizeQa(options: SynthOptions): SynthResult {
  const seed = options.seed ?? 0;
  const rng = new Rng(seed);
  const depth = options.retrievalDepth ?? 10;
  const testFraction = options.testFraction ?? 0.2;
  const kinds = (options.kinds ?? QA_KINDS).filter((k) => k in TEMPLATES);
  const corpus = scan(options.index);
  const pools: Record<string, SearchDocument[]> = {};
  for (const k of kinds) {
    const src = k === 'define-term' || k === 'linked-term' ? corpus.terms : k.startsWith('city') ? corpus.cities : corpus.countries;
    pools[k] = rng.shuffle(src);
  }
  const rejected: Record<string, number> = {};
  const reject = (r: string) => (rejected[r] = (rejected[r] ?? 0) + 1);
  const seenQuestions = new Set<string>();
  const items: QaItem[] = [];
  const cursor: Record<string, number> = Object.fromEntries(kinds.map((k) => [k, 0]));
  const ranksWithin = (query: string, url: string, within = depth): boolean => {
    const hits = options.index.search(query, { k: within * 3 + 5 });
    const urls: string[] = [];
    for (const h of hits) {
      const u = options.index.hit(h).url;
      if (!urls.includes(u)) urls.push(u);
      if (urls.length >= within) break;
    }
    return urls.includes(url);
  };
  let active = kinds.slice();
  while (items.length < options.count && active.length) {
    const next: string[] = [];
    for (const k of active) {
      if (items.length >= options.count) break;
      const pool = pools[k]!;
      let made = false;
      while (cursor[k]! < pool.length && !made) {
        const d = pool[cursor[k]!++]!;
        const cand = TEMPLATES[k]!(d, corpus);
        if (!cand) continue;
        if (seenQuestions.has(cand.question)) {
          reject('duplicate');
          continue;
        }
        if (!cand.checks.every((c, i) => c === undefined || ranksWithin(c.query, cand.supportingUrls[i]!, c.depth))) {
          reject(`not-retrievable:${k}`);
          continue;
        }
        seenQuestions.add(cand.question);
        const split = hashSeed(seed, cand.answerEntity) / 2 ** 32 < testFraction ? 'test' : 'train';
        const { checks: _checks, ...rest } = cand;
        items.push({ schemaVersion: QA_SCHEMA_VERSION, id: `${k}-${hashSeed(seed, cand.question).toString(36)}`, split, ...rest });
        made = true;
      }
      if (made) next.push(k);
    }
    active = next;
  }
  return { items, rejected };
}
